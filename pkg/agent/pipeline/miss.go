package pipeline

import of "github.com/kubefay/kubefay/pkg/ovs/openflow"

// MissFlows are the tables' miss flows (priority 0), generated from the
// declaration (Table.Miss), with cookie c.
func MissFlows(c uint64) []*of.Flow {
	flows := make([]*of.Flow, 0, len(Tables))
	for _, t := range Tables {
		b := of.NewFlow(t.ID).Cookie(c).Priority(MissPriority)
		switch t.Miss.Kind {
		case MissNext:
			flows = append(flows, b.Actions(of.GotoTable(t.Miss.Next)))
		case MissOutput:
			flows = append(flows, b.Actions(OutputField.Output()))
		default:
			flows = append(flows, b.Drop())
		}
	}
	return flows
}
