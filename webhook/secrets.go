package webhook

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
)

// Endpoint secrets are kept sealed: AES-256-GCM under a key the deployment
// configures (Config.SecretKeys), with the endpoint id as additional data,
// so a sealed secret opens only for its own endpoint. The stored form
// names its key:
//
//	sety:v1:<key id>:<base64url(nonce || ciphertext)>
//
// The key id is the first 4 bytes of SHA-256 of the derived AES key, in
// hex: it says which key opens a secret without revealing the key. The
// first configured key seals; every configured key opens, so a key is
// rotated by putting the new one first and keeping the old one after it
// until [Service.ReencryptSecrets] (which Run calls when it starts) has
// sealed every secret with the new one. Without a configured key the
// service uses a random key kept in the store (Store.SecretKey): the
// secrets are still never stored in clear, but a thief of the database has
// the key too. A stored secret without the prefix is one an earlier
// version stored in clear: it is used as it is, and sealed on the next
// write, attempt or re-encryption.
const sealedPrefix = "sety:v1:"

// minSecretKey is the shortest key accepted for sealing secrets.
const minSecretKey = 32

// sealKey is one key of the keyring.
type sealKey struct {
	id   string
	aead cipher.AEAD
}

func newSealKey(secret []byte) (sealKey, error) {
	if len(secret) < minSecretKey {
		return sealKey{}, fmt.Errorf("webhook: a secret key must be at least %d bytes", minSecretKey)
	}
	key, err := hkdf.Key(sha256.New, secret, nil, "sety webhook endpoint secrets v1", 32)
	if err != nil {
		return sealKey{}, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return sealKey{}, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return sealKey{}, err
	}
	sum := sha256.Sum256(key)
	return sealKey{id: hex.EncodeToString(sum[:4]), aead: aead}, nil
}

// CheckSecretKeys reports whether keys can seal endpoint secrets: each at
// least 32 bytes.
func CheckSecretKeys(keys [][]byte) error {
	for _, k := range keys {
		if _, err := newSealKey(k); err != nil {
			return err
		}
	}
	return nil
}

// keyring seals and opens endpoint secrets.
type keyring struct {
	store      Store
	configured []sealKey // the first seals; all open
	bad        error     // a configured key that cannot be used

	mu     sync.Mutex
	stored *sealKey // the store's random key, once loaded
}

func newKeyring(store Store, keys [][]byte) *keyring {
	k := &keyring{store: store}
	for _, secret := range keys {
		key, err := newSealKey(secret)
		if err != nil {
			k.bad = err
			continue
		}
		k.configured = append(k.configured, key)
	}
	return k
}

// load reads the store's key, once: it seals when no key is configured,
// and opens what it sealed before one was. Call it before a store
// transaction that seals or opens: it may write (the first time), and a
// store may run one transaction at a time.
func (k *keyring) load(ctx context.Context) error {
	if k.bad != nil {
		return k.bad
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.stored != nil {
		return nil
	}
	secret, err := k.store.SecretKey(ctx)
	if err != nil {
		return fmt.Errorf("load webhook secret key: %w", err)
	}
	key, err := newSealKey(secret)
	if err != nil {
		return fmt.Errorf("webhook secret key in the store: %w", err)
	}
	k.stored = &key
	return nil
}

// keys returns the sealing key first, then every other key that opens;
// after load.
func (k *keyring) keys() []sealKey {
	k.mu.Lock()
	defer k.mu.Unlock()
	keys := append([]sealKey(nil), k.configured...)
	if k.stored != nil {
		keys = append(keys, *k.stored)
	}
	return keys
}

// seal returns secret sealed for the endpoint with the sealing key.
func (k *keyring) seal(endpointID, secret string) (string, error) {
	keys := k.keys()
	if len(keys) == 0 {
		return "", errors.New("webhook: secret keys not loaded")
	}
	key := keys[0]
	nonce := make([]byte, key.aead.NonceSize(), key.aead.NonceSize()+len(secret)+key.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	sealed := key.aead.Seal(nonce, nonce, []byte(secret), []byte(endpointID))
	return sealedPrefix + key.id + ":" + base64.RawURLEncoding.EncodeToString(sealed), nil
}

var errSealed = errors.New("webhook: cannot open an endpoint secret")

// open returns the secret stored for the endpoint: sealed, or in clear as
// an earlier version stored it.
func (k *keyring) open(endpointID, stored string) (string, error) {
	rest, ok := strings.CutPrefix(stored, sealedPrefix)
	if !ok {
		return stored, nil
	}
	id, text, ok := strings.Cut(rest, ":")
	sealed, err := base64.RawURLEncoding.DecodeString(text)
	if !ok || err != nil {
		return "", fmt.Errorf("%w of endpoint %s: malformed", errSealed, endpointID)
	}
	for _, key := range k.keys() {
		if key.id != id || len(sealed) < key.aead.NonceSize() {
			continue
		}
		n := key.aead.NonceSize()
		if plain, err := key.aead.Open(nil, sealed[:n], sealed[n:], []byte(endpointID)); err == nil {
			return string(plain), nil
		}
	}
	return "", fmt.Errorf("%w of endpoint %s: sealed with key %s, which is not configured (or the secret was altered)", errSealed, endpointID, id)
}

// current reports whether stored is sealed with the sealing key.
func (k *keyring) current(stored string) bool {
	keys := k.keys()
	return len(keys) > 0 && strings.HasPrefix(stored, sealedPrefix+keys[0].id+":")
}

// reseal seals the endpoint's secrets with the sealing key where they are
// not already, and reports whether it changed any.
func (k *keyring) reseal(e *Endpoint) (bool, error) {
	changed := false
	for _, s := range []*string{&e.Secret, &e.PreviousSecret} {
		if *s == "" || k.current(*s) {
			continue
		}
		plain, err := k.open(e.ID, *s)
		if err != nil {
			return false, err
		}
		if *s, err = k.seal(e.ID, plain); err != nil {
			return false, err
		}
		changed = true
	}
	return changed, nil
}

// signing returns the secrets that sign a delivery to e at now, opened.
func (k *keyring) signing(e *Endpoint, now time.Time) ([]string, error) {
	out := make([]string, 0, 2)
	for _, stored := range e.secrets(now) {
		plain, err := k.open(e.ID, stored)
		if err != nil {
			return nil, err
		}
		out = append(out, plain)
	}
	return out, nil
}
