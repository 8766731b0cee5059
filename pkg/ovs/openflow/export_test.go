package openflow

// OracleFlowCase exposes the oracle flow table to the integration tests.
type OracleFlowCase struct {
	Name       string
	Flow       *Flow
	Want       string
	NeedsGroup bool // refers to a group that does not exist on a bare bridge
}

// OracleFlowCases returns the flows of flowCases with their expected text.
func OracleFlowCases() []OracleFlowCase {
	var out []OracleFlowCase
	for _, c := range flowCases() {
		out = append(out, OracleFlowCase{Name: c.name, Flow: c.flow, Want: c.want, NeedsGroup: c.name == "group"})
	}
	return out
}
