package webhook_test

import (
	"fmt"
	"net/http"
	"time"

	"github.com/sety-io/sety/webhook"
)

// A receiver checks each delivery with the endpoint's secret.
func ExampleVerify() {
	secret := "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	body := []byte(`{"test": 2432232314}`)
	sent := time.Unix(1614265330, 0)
	sig, _ := webhook.Sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", sent, body)

	h := http.Header{}
	h.Set("webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek")
	h.Set("webhook-timestamp", "1614265330")
	h.Set("webhook-signature", sig)
	fmt.Println(webhook.Verify(secret, h, body, sent.Add(time.Minute), webhook.DefaultTolerance))
	fmt.Println(webhook.Verify(secret, h, body, sent.Add(time.Hour), webhook.DefaultTolerance))
	// Output:
	// <nil>
	// webhook: timestamp outside the tolerance (replayed or clock skew)
}
