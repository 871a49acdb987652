package cfemu

import (
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
)

// Limits on a query's filter, from Cloudflare's metadata filtering docs.
const (
	vecMaxFilterJSON = 2048 // bytes of its compact JSON, exclusive
	vecMaxFilterKey  = 512
)

// vecCondition is one test of a filter: a property, an operator and its
// operand (a scalar, or a list of scalars for $in and $nin).
type vecCondition struct {
	property string
	op       string
	operand  any
}

// parseVecFilter checks a filter the way Cloudflare's docs describe it and
// lists its conditions, all of which a vector must meet: a property's
// value is a scalar (implicit $eq) or an object of operators.
func parseVecFilter(filter map[string]any) ([]vecCondition, error) {
	if filter == nil {
		return nil, nil
	}
	// The JSON round trip measures the filter as Cloudflare does and gives
	// Go callers' operands the types JSON clients' have.
	raw, err := json.Marshal(filter)
	if err != nil {
		return nil, vecInvalidFilter("it is not JSON: %v", err)
	}
	if len(filter) == 0 || len(raw) >= vecMaxFilterJSON {
		return nil, vecInvalidFilter("it must be a non-empty object whose compact JSON is under %d bytes (it is %d)", vecMaxFilterJSON, len(raw))
	}
	var f map[string]any
	if err := json.Unmarshal(raw, &f); err != nil {
		return nil, err
	}
	var out []vecCondition
	for _, prop := range slices.Sorted(maps.Keys(f)) {
		if prop == "" || strings.Contains(prop, `"`) || strings.HasPrefix(prop, "$") || len(prop) > vecMaxFilterKey {
			return nil, vecInvalidFilter("key %q must not be empty, contain \" or start with $, and be at most %d characters", prop, vecMaxFilterKey)
		}
		ops, isObj := f[prop].(map[string]any)
		if !isObj {
			ops = map[string]any{"$eq": f[prop]}
		}
		if len(ops) == 0 {
			return nil, vecInvalidFilter("key %q has an empty operator object", prop)
		}
		for _, op := range slices.Sorted(maps.Keys(ops)) {
			c := vecCondition{property: prop, op: op, operand: ops[op]}
			if err := c.check(); err != nil {
				return nil, err
			}
			if s, isStr := c.operand.(string); isStr {
				c.operand = truncateUTF8(s, vecMaxIndexedText) // an index holds only the first 64 bytes
			}
			if list, isList := c.operand.([]any); isList {
				for i, x := range list {
					if s, isStr := x.(string); isStr {
						list[i] = truncateUTF8(s, vecMaxIndexedText)
					}
				}
			}
			out = append(out, c)
		}
	}
	return out, nil
}

func isScalar(v any) bool {
	switch v.(type) {
	case nil, string, float64, bool:
		return true
	}
	return false
}

// check refuses an unknown operator or an operand it does not take.
func (c vecCondition) check() error {
	switch c.op {
	case "$eq", "$ne":
		if !isScalar(c.operand) {
			return vecInvalidFilter("%s of %q takes a string, number, boolean or null", c.op, c.property)
		}
	case "$lt", "$lte", "$gt", "$gte":
		if c.operand == nil || !isScalar(c.operand) {
			return vecInvalidFilter("%s of %q takes a string, number or boolean", c.op, c.property)
		}
	case "$in", "$nin":
		list, isList := c.operand.([]any)
		if !isList || len(list) == 0 || slices.ContainsFunc(list, func(x any) bool { return !isScalar(x) }) {
			return vecInvalidFilter("%s of %q takes a non-empty array of strings, numbers, booleans or nulls", c.op, c.property)
		}
	default:
		return vecInvalidFilter("operator %q of %q is not one of $eq, $ne, $in, $nin, $lt, $lte, $gt, $gte", c.op, c.property)
	}
	return nil
}

// vecAdmits says whether a vector's indexed metadata meets every
// condition. A property the vector has no indexed value for reads as
// null: {"$eq": null} finds vectors without it and $ne those with
// another value or none, while ranges never match it.
func vecAdmits(conds []vecCondition, indexed map[string]any) bool {
	for _, c := range conds {
		val, has := indexed[c.property]
		if !c.holds(val, has) {
			return false
		}
	}
	return true
}

func (c vecCondition) holds(val any, has bool) bool {
	switch c.op {
	case "$eq":
		return val == c.operand
	case "$ne":
		return val != c.operand
	case "$in":
		return slices.Contains(c.operand.([]any), val)
	case "$nin":
		return !slices.Contains(c.operand.([]any), val)
	}
	order, comparable := vecCompare(val, c.operand)
	if !has || !comparable {
		return false
	}
	switch c.op {
	case "$lt":
		return order < 0
	case "$lte":
		return order <= 0
	case "$gt":
		return order > 0
	default: // $gte
		return order >= 0
	}
}

// vecCompare orders two values of one type: strings by bytes, numbers by
// value, false before true.
func vecCompare(a, b any) (int, bool) {
	switch x := a.(type) {
	case string:
		y, same := b.(string)
		return strings.Compare(x, y), same
	case float64:
		y, same := b.(float64)
		return cmp.Compare(x, y), same
	case bool:
		y, same := b.(bool)
		return cmp.Compare(boolRank(x), boolRank(y)), same
	}
	return 0, false
}

func boolRank(b bool) int {
	if b {
		return 1
	}
	return 0
}

// vecInvalidFilter refuses a query's filter.
func vecInvalidFilter(format string, args ...any) error {
	return refuse(http.StatusBadRequest, vecCodeInvalidRequest, "invalid filter: %s", fmt.Sprintf(format, args...))
}
