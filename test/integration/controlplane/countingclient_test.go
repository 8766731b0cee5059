package controlplane

import (
	"context"
	"sync/atomic"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// writeCounter counts the API writes going through a client and how many
// of them failed with a conflict or AlreadyExists.
type writeCounter struct {
	client.Client
	writes, conflicts, exists, reads atomic.Int64
}

func (w *writeCounter) Create(ctx context.Context, o client.Object, opts ...client.CreateOption) error {
	err := w.Client.Create(ctx, o, opts...)
	w.count(err)
	return err
}

func (w *writeCounter) Update(ctx context.Context, o client.Object, opts ...client.UpdateOption) error {
	err := w.Client.Update(ctx, o, opts...)
	w.count(err)
	return err
}

func (w *writeCounter) Get(ctx context.Context, k client.ObjectKey, o client.Object, opts ...client.GetOption) error {
	w.reads.Add(1)
	return w.Client.Get(ctx, k, o, opts...)
}

func (w *writeCounter) List(ctx context.Context, l client.ObjectList, opts ...client.ListOption) error {
	w.reads.Add(1)
	return w.Client.List(ctx, l, opts...)
}

func (w *writeCounter) count(err error) {
	w.writes.Add(1)
	switch {
	case apierrors.IsConflict(err):
		w.conflicts.Add(1)
	case apierrors.IsAlreadyExists(err):
		w.exists.Add(1)
	}
}
