// Package metricsauth serves Prometheus metrics to in-cluster scrapers:
// over HTTPS with a self-signed certificate made at start, every request
// authenticated by a TokenReview and authorized by a SubjectAccessReview
// (verb get on the non-resource URL /metrics) sent to the API server.
//
// A scraper presents a bearer token (e.g. its ServiceAccount's) whose
// subject may get /metrics: the ClusterRole kubefay-metrics-reader grants
// exactly that.
package metricsauth
