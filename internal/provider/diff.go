package provider

import (
	"reflect"
	"strings"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi-go-provider/infer"
)

// diffPolicy says how diffInputs treats one resource's properties.
type diffPolicy struct {
	// replace lists the properties whose change needs a new resource.
	replace map[string]bool
	// keepWhenUnset lists optional inputs for which unset means "no
	// opinion": the live value stays and no change is reported. Used where
	// Cloudflare fills in defaults that an import reads back, so an imported
	// resource matches a program that leaves those settings out.
	keepWhenUnset map[string]bool
	// ignore lists inputs that say where something is rather than what it
	// is, such as a file named by its hash, which another input holds.
	ignore map[string]bool
}

// diffInputs compares two input structs property by property, so the diff
// names each changed property and says which ones force a replacement.
// Nil and empty lists are the same.
func diffInputs[I any](olds, news I, pol diffPolicy) infer.DiffResponse {
	ov, nv := reflect.ValueOf(olds), reflect.ValueOf(news)
	detailed := map[string]p.PropertyDiff{}
	for i := range ov.NumField() {
		name := propertyName(ov.Type().Field(i))
		if name == "" {
			continue
		}
		o, n := ov.Field(i), nv.Field(i)
		if pol.ignore[name] || pol.keepWhenUnset[name] && isUnset(n) {
			continue
		}
		if sameValue(o, n) {
			continue
		}
		kind := p.Update
		switch {
		case isUnset(o):
			kind = p.Add
		case isUnset(n):
			kind = p.Delete
		}
		if pol.replace[name] {
			kind = map[p.DiffKind]p.DiffKind{p.Add: p.AddReplace, p.Delete: p.DeleteReplace, p.Update: p.UpdateReplace}[kind]
		}
		detailed[name] = p.PropertyDiff{Kind: kind, InputDiff: true}
	}
	return infer.DiffResponse{HasChanges: len(detailed) > 0, DetailedDiff: detailed}
}

func hasReplace(d infer.DiffResponse) bool {
	for _, v := range d.DetailedDiff {
		switch v.Kind {
		case p.AddReplace, p.DeleteReplace, p.UpdateReplace:
			return true
		}
	}
	return false
}

// propertyName reads the Pulumi name from a `pulumi:"name,optional"` tag.
func propertyName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("pulumi"), ",")
	return name
}

func isUnset(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		return v.IsNil()
	case reflect.Slice, reflect.Map:
		return v.Len() == 0
	}
	return v.IsZero()
}

func sameValue(a, b reflect.Value) bool {
	if (a.Kind() == reflect.Slice || a.Kind() == reflect.Map) && a.Len() == 0 && b.Len() == 0 {
		return true
	}
	return reflect.DeepEqual(a.Interface(), b.Interface())
}
