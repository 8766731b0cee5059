package api

import (
	"context"
	"errors"
	"fmt"

	"github.com/containernetworking/cni/pkg/types"
)

// CNIErrorer is implemented by errors that know the CNI error they stand for.
type CNIErrorer interface {
	CNIError() *types.Error
}

// AsCNIError converts err into the CNI error reported to the runtime: a
// *types.Error anywhere in the chain is used as is, then an error
// implementing CNIErrorer; a cancelled or expired context becomes "try again
// later" (11); anything else is an internal error (999) carrying err's text.
// A nil err gives nil.
func AsCNIError(err error) *types.Error {
	if err == nil {
		return nil
	}
	var te *types.Error
	if errors.As(err, &te) && te != nil {
		return te
	}
	var ce CNIErrorer
	if errors.As(err, &ce) {
		if e := ce.CNIError(); e != nil {
			return e
		}
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return types.NewError(types.ErrTryAgainLater, "request cancelled or timed out in the kubefay agent", err.Error())
	}
	return types.NewError(types.ErrInternal, err.Error(), "")
}

// TryAgainLater returns a CNI error with code 11: the runtime should retry.
func TryAgainLater(format string, a ...any) *types.Error {
	return types.NewError(types.ErrTryAgainLater, fmt.Sprintf(format, a...), "")
}
