package ovsdb

import (
	"encoding/json"
	"fmt"
)

// Operation kinds of a "transact" request (RFC 7047 section 5.2).
const (
	// OpInsert inserts Row (optionally named by UUIDName).
	OpInsert = "insert"
	// OpUpdate sets the columns of Row in the rows matching Where.
	OpUpdate = "update"
	// OpMutate applies Mutations to the rows matching Where.
	OpMutate = "mutate"
	// OpDelete deletes the rows matching Where.
	OpDelete = "delete"
	// OpSelect returns the Columns of the rows matching Where.
	OpSelect = "select"
	// OpWait fails the transaction unless the rows matching Where compare
	// Until ("==" or "!=") to Rows on Columns within Timeout.
	OpWait = "wait"
	// OpComment adds Comment to the server's log of the transaction.
	OpComment = "comment"
)

// Operation is one element of a transaction. Only the fields meaningful for
// Op are encoded; Where is always sent (as []) for the operations that
// require it. Values in Row and Rows go through EncodeValue.
type Operation struct {
	// Op is one of the Op* constants.
	Op string
	// Table is the table the operation applies to.
	Table string
	// Row holds column values for insert and update.
	Row map[string]any
	// Rows holds the expected rows of a wait operation.
	Rows []map[string]any
	// Columns restricts select results, or the columns a wait compares.
	Columns []string
	// Mutations are applied, in order, by a mutate operation.
	Mutations []Mutation
	// Where selects the rows for update, mutate, delete, select and wait.
	Where []Condition
	// UUIDName names the row an insert creates, for NamedUUID references.
	UUIDName string
	// UUID, if set on an insert, asks the server to use it as the row's _uuid.
	UUID UUID
	// Until is "==" or "!=" for wait.
	Until string
	// Timeout is the wait timeout in milliseconds (0: fail at once).
	Timeout int
	// Comment is the text of a comment operation.
	Comment string
}

// Condition is a where clause [column, function, value]; Function is one
// of "==", "!=", "<", "<=", ">", ">=", "includes", "excludes".
type Condition struct {
	Column   string
	Function string
	Value    any
}

// Mutation is [column, mutator, value]; Mutator is one of "+=", "-=",
// "*=", "/=", "%=", "insert", "delete".
type Mutation struct {
	Column  string
	Mutator string
	Value   any
}

// Where returns a Condition.
func Where(column, function string, value any) Condition {
	return Condition{Column: column, Function: function, Value: value}
}

// Mutate returns a Mutation.
func Mutate(column, mutator string, value any) Mutation {
	return Mutation{Column: column, Mutator: mutator, Value: value}
}

// MarshalJSON encodes c as [column, function, value].
func (c Condition) MarshalJSON() ([]byte, error) {
	v, err := EncodeValue(c.Value)
	if err != nil {
		return nil, fmt.Errorf("condition on %q: %w", c.Column, err)
	}
	return json.Marshal([]any{c.Column, c.Function, v})
}

// MarshalJSON encodes m as [column, mutator, value].
func (m Mutation) MarshalJSON() ([]byte, error) {
	v, err := EncodeValue(m.Value)
	if err != nil {
		return nil, fmt.Errorf("mutation of %q: %w", m.Column, err)
	}
	return json.Marshal([]any{m.Column, m.Mutator, v})
}

// MarshalJSON encodes the operation as RFC 7047 requires for its kind.
func (o Operation) MarshalJSON() ([]byte, error) {
	out := map[string]any{"op": o.Op}
	where := o.Where
	if where == nil {
		where = []Condition{}
	}
	switch o.Op {
	case OpInsert:
		row, err := encodeRow(o.Row)
		if err != nil {
			return nil, err
		}
		out["table"], out["row"] = o.Table, row
		if o.UUIDName != "" {
			out["uuid-name"] = o.UUIDName
		}
		if o.UUID != "" {
			out["uuid"] = o.UUID
		}
	case OpUpdate:
		row, err := encodeRow(o.Row)
		if err != nil {
			return nil, err
		}
		out["table"], out["where"], out["row"] = o.Table, where, row
	case OpMutate:
		muts := o.Mutations
		if muts == nil {
			muts = []Mutation{}
		}
		out["table"], out["where"], out["mutations"] = o.Table, where, muts
	case OpDelete:
		out["table"], out["where"] = o.Table, where
	case OpSelect:
		out["table"], out["where"] = o.Table, where
		if o.Columns != nil {
			out["columns"] = o.Columns
		}
	case OpWait:
		rows := make([]map[string]any, 0, len(o.Rows))
		for _, r := range o.Rows {
			er, err := encodeRow(r)
			if err != nil {
				return nil, err
			}
			rows = append(rows, er)
		}
		until := o.Until
		if until == "" {
			until = "=="
		}
		out["table"], out["where"], out["rows"], out["until"], out["timeout"] = o.Table, where, rows, until, o.Timeout
		if o.Columns != nil {
			out["columns"] = o.Columns
		}
	case OpComment:
		out["comment"] = o.Comment
	default:
		return nil, fmt.Errorf("ovsdb: unsupported operation %q", o.Op)
	}
	return json.Marshal(out)
}

// encodeRow converts every column value with EncodeValue.
func encodeRow(row map[string]any) (map[string]any, error) {
	out := make(map[string]any, len(row))
	for col, v := range row {
		ev, err := EncodeValue(v)
		if err != nil {
			return nil, fmt.Errorf("column %q: %w", col, err)
		}
		out[col] = ev
	}
	return out, nil
}
