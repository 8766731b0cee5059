package ovsdb

import (
	"context"
	"encoding/json"
	"fmt"
)

// OperationResult is the server's result for one operation.
type OperationResult struct {
	// Count is the number of rows an update, mutate or delete touched.
	Count int
	// UUID is the _uuid of the row an insert created.
	UUID UUID
	// Rows are the rows a select returned.
	Rows []Row
	// Error and Details are set when the operation failed.
	Error, Details string
	// Skipped is true when the server returned null: the operation was not
	// executed because an earlier one failed.
	Skipped bool
}

// Transact runs ops as one transaction on db. On failure it returns a
// *TransactionError naming the first failed operation (and the results);
// RPC-level failures are *RPCError; a lost connection is ErrDisconnected.
func (c *Client) Transact(ctx context.Context, db string, ops ...Operation) ([]OperationResult, error) {
	params := make([]any, 0, len(ops)+1)
	params = append(params, db)
	for _, op := range ops {
		params = append(params, op)
	}
	c.transactions.Add(1)
	raw, err := c.call(ctx, "transact", params)
	if err != nil {
		return nil, err
	}
	return decodeTransactResult(raw, ops)
}

// decodeTransactResult parses a transact result array and finds the first error.
func decodeTransactResult(raw json.RawMessage, ops []Operation) ([]OperationResult, error) {
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, fmt.Errorf("%w: transact result: %v", ErrMalformed, err)
	}
	results := make([]OperationResult, len(items))
	failed := -1
	for i, item := range items {
		r, err := decodeOperationResult(item)
		if err != nil {
			return nil, fmt.Errorf("transact result %d: %w", i, err)
		}
		results[i] = r
		if r.Error != "" && failed < 0 {
			failed = i
		}
	}
	if failed < 0 {
		if len(items) < len(ops) {
			return results, fmt.Errorf("%w: %d results for %d operations", ErrMalformed, len(items), len(ops))
		}
		return results, nil
	}
	te := &TransactionError{Index: failed, Op: "commit", Err: results[failed].Error, Details: results[failed].Details, Results: results}
	if failed < len(ops) {
		te.Op, te.Table = ops[failed].Op, ops[failed].Table
	}
	return results, te
}

func decodeOperationResult(item json.RawMessage) (OperationResult, error) {
	if isNull(item) {
		return OperationResult{Skipped: true}, nil
	}
	var obj struct {
		Count   *int              `json:"count"`
		UUID    json.RawMessage   `json:"uuid"`
		Rows    []json.RawMessage `json:"rows"`
		Error   *string           `json:"error"`
		Details *string           `json:"details"`
	}
	if err := json.Unmarshal(item, &obj); err != nil {
		return OperationResult{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	var r OperationResult
	if obj.Count != nil {
		r.Count = *obj.Count
	}
	if obj.Error != nil {
		r.Error = *obj.Error
		if r.Error == "" {
			r.Error = "unspecified error"
		}
	}
	if obj.Details != nil {
		r.Details = *obj.Details
	}
	if obj.UUID != nil {
		v, err := DecodeValue(obj.UUID)
		if err != nil {
			return r, err
		}
		u, ok := v.(UUID)
		if !ok {
			return r, fmt.Errorf("%w: uuid member is %T", ErrMalformed, v)
		}
		r.UUID = u
	}
	for _, rr := range obj.Rows {
		row, err := DecodeRow(rr)
		if err != nil {
			return r, err
		}
		r.Rows = append(r.Rows, row)
	}
	return r, nil
}
