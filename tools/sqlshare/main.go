// Command sqlshare measures how much of one SQL adapter is written again
// in another: the share of the first adapter's code lines that stand,
// normalised, in a run of at least -run consecutive code lines of the
// second. It is the figure issue 22 sets a target for (under 10 % of the
// SQLite adapter written again in the PostgreSQL adapter).
//
//	go run ./tools/sqlshare                      # adapters/sqlite against adapters/postgres
//	go run ./tools/sqlshare -v                   # and every run it counted
//	go run ./tools/sqlshare -skip backup.go      # files left out of both (by default, none)
//
// Code lines are the Go source lines of the non-test files of each folder
// with comments, blank lines, the package clause, imports and lines of
// lone punctuation ("}", ")", "{") left out. Within a line, tokens are
// normalised so that what differs only by the engine's spelling counts as
// the same: SQL placeholders ($1, ?1) become ?, white space in SQL is
// folded, the names that differ by driver (ExecContext/Exec,
// QueryRowContext/QueryRow, QueryContext/Query, writeTx/txn, s.read/s.pool,
// inList/anyOf) become one name, and the wrappers that only convert a
// value for one driver are dropped: the time codec (millis(x), at(x),
// x.UnixMilli(), fromMillis(x), fromAt(x), x.Time), string(x) and
// translate(x). A line counts once however many runs it is in.
package main

import (
	"flag"
	"fmt"
	"go/scanner"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// sameName folds the names the two adapters spell differently for the
// same thing.
var sameName = map[string]string{
	"ExecContext": "Exec", "QueryRowContext": "QueryRow", "QueryContext": "Query",
	"writeTx": "tx", "txn": "tx", "read": "pool", "inList": "anyOf",
}

// wrappers are the calls that only convert a value for one driver: the
// call is dropped and its argument kept.
var wrappers = map[string]bool{"millis": true, "at": true, "fromMillis": true, "fromAt": true, "string": true, "translate": true}

var (
	numbered = regexp.MustCompile(`[$?][0-9]+`)
	space    = regexp.MustCompile(`\s+`)
)

// line is one normalised code line of a file.
type line struct {
	file string
	no   int
	text string
}

func main() {
	first := flag.String("a", "adapters/sqlite", "the adapter measured")
	second := flag.String("b", "adapters/postgres", "the adapter it is compared with")
	minRun := flag.Int("run", 3, "the fewest consecutive code lines that count as written again")
	skip := flag.String("skip", "", "comma-separated file names left out of both")
	verbose := flag.Bool("v", false, "list every run counted")
	flag.Parse()
	var skipped []string
	left := "nothing"
	if *skip != "" {
		skipped, left = strings.Split(*skip, ","), *skip
	}
	a, err := codeLines(*first, skipped)
	if err != nil {
		fail(err)
	}
	b, err := codeLines(*second, skipped)
	if err != nil {
		fail(err)
	}
	shared := sharedLines(a, b, *minRun, *verbose)
	perFile := map[string][2]int{}
	for i, l := range a {
		n := perFile[l.file]
		n[1]++
		if shared[i] {
			n[0]++
		}
		perFile[l.file] = n
	}
	files := make([]string, 0, len(perFile))
	for f := range perFile {
		files = append(files, f)
	}
	sort.Strings(files)
	total := 0
	for _, f := range files {
		n := perFile[f]
		total += n[0]
		fmt.Printf("%-28s %4d of %4d lines  %5.1f %%\n", f, n[0], n[1], pct(n[0], n[1]))
	}
	fmt.Printf("%s written again in %s: %d of %d code lines, %.1f %% (runs of %d or more lines; %s left out)\n",
		*first, *second, total, len(a), pct(total, len(a)), *minRun, left)
}

func pct(n, of int) float64 {
	if of == 0 {
		return 0
	}
	return 100 * float64(n) / float64(of)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "sqlshare:", err)
	os.Exit(1)
}

// sharedLines marks each line of a that lies in a run of at least minRun
// consecutive lines of one file of a that stands in one file of b.
func sharedLines(a, b []line, minRun int, verbose bool) []bool {
	shared := make([]bool, len(a))
	for i := range a {
		for j := range b {
			if (i > 0 && j > 0 && a[i-1].file == a[i].file && b[j-1].file == b[j].file && a[i-1].text == b[j-1].text) || a[i].text != b[j].text {
				continue // not the start of a run
			}
			n := 0
			for i+n < len(a) && j+n < len(b) && a[i+n].file == a[i].file && b[j+n].file == b[j].file && a[i+n].text == b[j+n].text {
				n++
			}
			if n < minRun {
				continue
			}
			for k := range n {
				shared[i+k] = true
			}
			if verbose {
				fmt.Printf("run %s:%d-%d ~ %s:%d-%d\n", a[i].file, a[i].no, a[i+n-1].no, b[j].file, b[j].no, b[j+n-1].no)
			}
		}
	}
	return shared
}

// codeLines returns the normalised code lines of the Go files of dir.
func codeLines(dir string, skipped []string) ([]line, error) {
	names, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var out []line
	for _, name := range names {
		base := filepath.Base(name)
		if strings.HasSuffix(base, "_test.go") || slices.Contains(skipped, base) {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			return nil, err
		}
		out = append(out, fileLines(base, src)...)
	}
	return out, nil
}

// fileLines tokenises src and returns its code lines, normalised.
func fileLines(name string, src []byte) []line {
	fset := token.NewFileSet()
	file := fset.AddFile(name, -1, len(src))
	var s scanner.Scanner
	s.Init(file, src, nil, 0) // comments are skipped
	type tk struct {
		no  int
		tok token.Token
		lit string
	}
	var toks []tk
	for {
		pos, tok, lit := s.Scan()
		if tok == token.EOF {
			break
		}
		toks = append(toks, tk{fset.Position(pos).Line, tok, lit})
	}
	// Drop the converting wrappers (their name, "(" and the matching ")")
	// and the codec's selectors (.UnixMilli(), .Time).
	drop := make([]bool, len(toks))
	for i := range toks {
		t := toks[i]
		if t.tok == token.IDENT && wrappers[t.lit] && i+1 < len(toks) && toks[i+1].tok == token.LPAREN && (i == 0 || toks[i-1].tok != token.PERIOD && toks[i-1].tok != token.FUNC) {
			depth := 0
			for j := i + 1; j < len(toks); j++ {
				if toks[j].tok == token.LPAREN {
					depth++
				} else if toks[j].tok == token.RPAREN {
					depth--
					if depth == 0 {
						drop[i], drop[i+1], drop[j] = true, true, true
						break
					}
				}
			}
		}
		if t.tok == token.PERIOD && i+1 < len(toks) {
			switch {
			case toks[i+1].lit == "UnixMilli" && i+3 < len(toks) && toks[i+2].tok == token.LPAREN && toks[i+3].tok == token.RPAREN:
				drop[i], drop[i+1], drop[i+2], drop[i+3] = true, true, true, true
			case toks[i+1].lit == "Time" && (i+2 == len(toks) || toks[i+2].tok != token.LPAREN && toks[i+2].tok != token.LBRACE):
				drop[i], drop[i+1] = true, true
			}
		}
	}
	byLine := map[int][]string{}
	inImport, depth := false, 0
	for i, t := range toks {
		if drop[i] {
			continue
		}
		no, tok, lit := t.no, t.tok, t.lit
		switch {
		case tok == token.PACKAGE || tok == token.IMPORT:
			inImport = tok == token.IMPORT
			continue
		case inImport:
			if tok == token.LPAREN {
				depth++
			} else if tok == token.RPAREN {
				depth--
			}
			if depth == 0 && tok != token.LPAREN && (tok == token.RPAREN || tok == token.STRING) {
				inImport = false
			}
			continue
		}
		switch tok {
		case token.SEMICOLON:
			if lit == "\n" {
				continue // inserted at a line's end
			}
		case token.IDENT:
			if n, ok := sameName[lit]; ok {
				lit = n
			}
		case token.STRING:
			// A raw string over many lines (SQL) is a line of code a line.
			for k, part := range strings.Split(lit, "\n") {
				part = strings.TrimSpace(space.ReplaceAllString(numbered.ReplaceAllString(part, "?"), " "))
				if part != "" && part != "`" {
					byLine[no+k] = append(byLine[no+k], part)
				}
			}
			continue
		}
		if lit == "" {
			lit = tok.String()
		}
		byLine[no] = append(byLine[no], lit)
	}
	nos := make([]int, 0, len(byLine))
	for no := range byLine {
		nos = append(nos, no)
	}
	sort.Ints(nos)
	var out []line
	for _, no := range nos {
		text := strings.Join(byLine[no], " ")
		if strings.Trim(text, "{}(), ") == "" {
			continue // lone punctuation
		}
		out = append(out, line{file: name, no: no, text: text})
	}
	return out
}
