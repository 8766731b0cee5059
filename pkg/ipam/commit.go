package ipam

import (
	"context"
	"errors"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kubefay/kubefay/pkg/apis/kubefay/v1alpha1"
)

// errStale: the block changed since it was read (a conflict), or a block
// to create exists already.
var errStale = errors.New("block changed meanwhile")

// runBatch performs a batch of one key's ops: requested addresses (static
// IP, ip pool) one after the other on their own path, then the dynamic
// allocations and the releases together, with one write per block.
func (a *Allocator) runBatch(ctx context.Context, ops []*op) {
	a.opts.Metrics.batch(len(ops))
	group := ops[:0:0]
	for _, o := range ops {
		if o.req != nil && (o.req.StaticIP.IsValid() || len(o.req.Pool) > 0) {
			o.res, o.err = a.allocateRequested(ctx, o.sn, *o.req)
			continue
		}
		group = append(group, o)
	}
	if len(group) > 0 {
		a.commit(ctx, group)
	}
}

// commit plans ops on the blocks as listed (releases first, then
// allocations) and writes each block they change once. The ops a failed
// write carried (its block changed meanwhile, or a block to claim exists
// already) are planned again on a fresh read of that block; the others
// keep their outcome.
func (a *Allocator) commit(ctx context.Context, ops []*op) {
	for attempt := 0; attempt < a.opts.MaxAttempts; attempt++ {
		blocks, err := a.blocks(ctx, ops[0].subnet())
		if err != nil {
			for _, o := range ops {
				o.err = err
			}
			return
		}
		p := newPlan(blocks, a.opts.Now)
		for _, o := range ops {
			if o.req == nil {
				p.release(o)
			}
		}
		var f *filler
		for _, o := range ops {
			if o.req == nil {
				continue
			}
			if f == nil {
				f = newFiller(o.sn, o.req.Node, blocks)
			}
			p.allocate(f, o)
		}
		if ops = a.write(ctx, p); len(ops) == 0 {
			return
		}
	}
	for _, o := range ops {
		o.res, o.freed = Result{}, nil
		o.err = a.gaveUp(o.subnet())
	}
}

// write performs p's writes, one per block, and returns the ops to plan
// again.
func (a *Allocator) write(ctx context.Context, p *plan) (again []*op) {
	for _, name := range p.order {
		ops := p.carry[name]
		if len(ops) == 0 {
			continue
		}
		_, err := a.put(ctx, p.view[name], p.isNew[name])
		switch {
		case err == nil:
		case errors.Is(err, errStale):
			again = append(again, ops...)
		case errors.Is(err, errRetry): // deleted: nothing left to release in it
			for _, o := range ops {
				if o.req != nil {
					again = append(again, o)
				}
				o.freed = nil
			}
		default:
			for _, o := range ops {
				o.res, o.freed, o.err = Result{}, nil, err
			}
		}
	}
	return again
}

// put creates or updates b and remembers the outcome. It returns the block
// as the API has it: b once written; a fresh read with errStale after a
// conflict (or when the block to create exists). A block deleted in
// between is errRetry.
func (a *Allocator) put(ctx context.Context, b *v1alpha1.IPAMBlock, create bool) (*v1alpha1.IPAMBlock, error) {
	var err error
	if create {
		err = a.c.Create(ctx, b)
	} else {
		err = a.c.Update(ctx, b)
	}
	a.opts.Metrics.wrote(create, err)
	switch {
	case err == nil:
		a.recent.put(b)
		return b, nil
	case apierrors.IsConflict(err), create && apierrors.IsAlreadyExists(err):
		cur, err := a.reread(ctx, b.Name)
		if err != nil {
			return nil, err
		}
		return cur, errStale
	case !create && apierrors.IsNotFound(err):
		a.recent.drop(b.Name)
		return nil, errRetry
	case create:
		return nil, fmt.Errorf("claiming IPAM block %s: %w", b.Name, err)
	}
	return nil, fmt.Errorf("updating IPAM block %s: %w", b.Name, err)
}

// reread reads block name from the API and remembers it; a block that is
// gone is errRetry.
func (a *Allocator) reread(ctx context.Context, name string) (*v1alpha1.IPAMBlock, error) {
	cur := &v1alpha1.IPAMBlock{}
	if err := a.api.Get(ctx, client.ObjectKey{Name: name}, cur); err != nil {
		if apierrors.IsNotFound(err) {
			a.recent.drop(name)
			return nil, errRetry
		}
		return nil, fmt.Errorf("reading IPAM block %s: %w", name, err)
	}
	a.recent.put(cur)
	return cur, nil
}
