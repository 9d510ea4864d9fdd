package webhook_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sety-io/sety/webhook"
)

// The Standard Webhooks specification's published test vector.
const (
	vectorSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	vectorID     = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	vectorBody   = `{"test": 2432232314}`
	vectorSig    = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

var vectorTime = time.Unix(1614265330, 0)

func TestSignMatchesTheStandardWebhooksVector(t *testing.T) {
	got, err := webhook.Sign(vectorSecret, vectorID, vectorTime, []byte(vectorBody))
	if err != nil || got != vectorSig {
		t.Fatalf("Sign = %q, %v; want %q", got, err, vectorSig)
	}
	if _, err := webhook.Sign("whsec_not base64!", vectorID, vectorTime, nil); err == nil {
		t.Fatal("a malformed secret signed")
	}
}

func headers(id, ts, sig string) http.Header {
	h := http.Header{}
	for k, v := range map[string]string{webhook.HeaderID: id, webhook.HeaderTimestamp: ts, webhook.HeaderSignature: sig} {
		if v != "" {
			h.Set(k, v)
		}
	}
	return h
}

func TestVerify(t *testing.T) {
	other := webhook.NewSecret()
	otherSig, _ := webhook.Sign(other, vectorID, vectorTime, []byte(vectorBody))
	tests := []struct {
		name   string
		h      http.Header
		body   string
		now    time.Time
		secret string
		want   error
	}{
		{"vector", headers(vectorID, "1614265330", vectorSig), vectorBody, vectorTime, vectorSecret, nil},
		{"within tolerance", headers(vectorID, "1614265330", vectorSig), vectorBody, vectorTime.Add(4 * time.Minute), vectorSecret, nil},
		{"one of two signatures (rotation)", headers(vectorID, "1614265330", otherSig+" "+vectorSig), vectorBody, vectorTime, vectorSecret, nil},
		{"replayed later", headers(vectorID, "1614265330", vectorSig), vectorBody, vectorTime.Add(6 * time.Minute), vectorSecret, webhook.ErrTimestamp},
		{"from the future", headers(vectorID, "1614265330", vectorSig), vectorBody, vectorTime.Add(-6 * time.Minute), vectorSecret, webhook.ErrTimestamp},
		{"body re-encoded", headers(vectorID, "1614265330", vectorSig), `{"test":2432232314}`, vectorTime, vectorSecret, webhook.ErrSignature},
		{"other id", headers("msg_other", "1614265330", vectorSig), vectorBody, vectorTime, vectorSecret, webhook.ErrSignature},
		{"wrong secret", headers(vectorID, "1614265330", vectorSig), vectorBody, vectorTime, other, webhook.ErrSignature},
		{"bad timestamp", headers(vectorID, "soon", vectorSig), vectorBody, vectorTime, vectorSecret, webhook.ErrTimestamp},
		{"no signature", headers(vectorID, "1614265330", ""), vectorBody, vectorTime, vectorSecret, webhook.ErrMissingHeaders},
	}
	for _, tt := range tests {
		if err := webhook.Verify(tt.secret, tt.h, []byte(tt.body), tt.now, webhook.DefaultTolerance); !errors.Is(err, tt.want) {
			t.Errorf("%s: Verify = %v, want %v", tt.name, err, tt.want)
		}
	}
}

func TestNewSecret(t *testing.T) {
	a, b := webhook.NewSecret(), webhook.NewSecret()
	if a == b || !strings.HasPrefix(a, "whsec_") || len(a) != len("whsec_")+32 {
		t.Fatalf("secrets %q %q", a, b)
	}
}
