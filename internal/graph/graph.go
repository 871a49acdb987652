// Package graph orders workers so that every service-binding target is
// deployed before the worker that binds it.
//
// Cloudflare refuses a service binding to a script that does not exist yet,
// so the upload order matters; a cycle can never be deployed and is reported
// as the cycle itself.
package graph

import "strings"

// CycleError is a dependency cycle, given as the path that closes it
// (the first and last elements are the same node).
type CycleError struct {
	Path []string
}

func (e *CycleError) Error() string {
	return "Circular dependency detected: " + strings.Join(e.Path, " -> ")
}

// Order returns nodes arranged so that each node comes after every node it
// has an edge to. Nodes are visited in the order given, so the result (and
// any cycle reported) follows the order the topology declares them in.
// Edges to nodes not in nodes are ignored: reporting unknown targets is the
// validator's job, with better context than this package has.
func Order(nodes []string, edges map[string][]string) ([]string, error) {
	const (
		unvisited = iota
		visiting
		done
	)
	known := make(map[string]bool, len(nodes))
	for _, n := range nodes {
		known[n] = true
	}
	state := make(map[string]int, len(nodes))
	order := make([]string, 0, len(nodes))
	var path []string

	var visit func(n string) error
	visit = func(n string) error {
		switch state[n] {
		case done:
			return nil
		case visiting:
			start := 0
			for i, p := range path {
				if p == n {
					start = i
					break
				}
			}
			cycle := append(append([]string{}, path[start:]...), n)
			return &CycleError{Path: cycle}
		}
		state[n] = visiting
		path = append(path, n)
		for _, next := range edges[n] {
			if !known[next] {
				continue
			}
			if err := visit(next); err != nil {
				return err
			}
		}
		path = path[:len(path)-1]
		state[n] = done
		order = append(order, n)
		return nil
	}
	for _, n := range nodes {
		if err := visit(n); err != nil {
			return nil, err
		}
	}
	return order, nil
}
