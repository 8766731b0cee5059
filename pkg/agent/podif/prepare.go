package podif

import (
	"context"
)

// Prepare creates the veth pair of spec and configures its host end (ARP
// off, IPv6 off, up) before the pod's address is known, so that the pair
// and its switch port are made while the address is being allocated.
// Configure then finishes the pair as a repeated ADD would (MAC, address,
// routes, pod end up). spec's IP, Gateway and MAC may be unset. On failure
// a pair created by this call is removed again.
func (p *Plumber) Prepare(ctx context.Context, spec PodIfaceSpec) (err error) {
	if err := spec.normalizeFor(false); err != nil {
		return err
	}
	sd, err := p.openSides(&spec)
	if err != nil {
		return err
	}
	defer sd.close()
	host, podNS, podH := sd.host, sd.podNS, sd.podH
	hostLink, _, reused, err := p.ensurePair(host, podH, podNS, &spec)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil && !reused {
			_ = host.h.LinkDel(hostLink)
		}
	}()
	if err := ctx.Err(); err != nil {
		return err
	}
	return configureHostEnd(host, hostLink, spec.MTU, reused)
}
