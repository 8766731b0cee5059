package metricsauth

import (
	"fmt"
	"net/http"

	"k8s.io/client-go/rest"
	"k8s.io/klog/v2"
	"sigs.k8s.io/controller-runtime/pkg/metrics/filters"
)

// Protect wraps h so that only requests whose bearer token the API server
// authenticates (TokenReview) and authorizes for the request's verb and
// path (SubjectAccessReview) reach it: 401 without a valid token, 403 when
// the subject may not get the path. cfg is the server's own identity: it
// needs create on tokenreviews and subjectaccessreviews.
func Protect(cfg *rest.Config, h http.Handler) (http.Handler, error) {
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return nil, fmt.Errorf("metrics authentication client: %w", err)
	}
	filter, err := filters.WithAuthenticationAndAuthorization(cfg, hc)
	if err != nil {
		return nil, fmt.Errorf("metrics authentication: %w", err)
	}
	return filter(klog.Background().WithName("metrics-auth"), h)
}
