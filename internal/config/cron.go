package config

import (
	"fmt"
	"strconv"
	"strings"
)

// cronField is one of the five fields of a Cloudflare cron trigger, with
// the range and names Cloudflare's documentation gives it.
type cronField struct {
	name     string
	min, max int
	names    []string // the names of min, min+1, ...
	// special accepts the field's own forms (L, W, #): handled says part
	// was one of them, err whether it was right.
	special func(f cronField, part string) (handled bool, err error)
}

var cronFields = []cronField{
	{name: "minute", min: 0, max: 59},
	{name: "hour", min: 0, max: 23},
	{name: "day-of-month", min: 1, max: 31, special: lastOrWeekday},
	{name: "month", min: 1, max: 12, names: []string{"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"}},
	{name: "day-of-week", min: 1, max: 7, names: []string{"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"}, special: lastOrNth},
}

// checkCron reports what in expr Cloudflare's cron parser would refuse: a
// wrong number of fields, values outside a field's range, malformed steps.
func checkCron(expr string) error {
	fields := strings.Fields(expr)
	if len(fields) != len(cronFields) {
		return fmt.Errorf("it has %d fields, not 5", len(fields))
	}
	var errs []string
	for i, f := range cronFields {
		for _, part := range strings.Split(fields[i], ",") {
			if err := f.check(part); err != nil {
				errs = append(errs, fmt.Sprintf("%s %v", f.name, err))
			}
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s", strings.Join(errs, ", "))
	}
	return nil
}

// check checks one element of a field's list: *, a value or a range, each
// with an optional /step, or one of the field's special forms.
func (f cronField) check(part string) error {
	if f.special != nil {
		if handled, err := f.special(f, part); handled {
			return err
		}
	}
	base, step, stepped := strings.Cut(part, "/")
	if stepped {
		if n, err := strconv.Atoi(step); err != nil || n < 1 || n > f.max {
			return fmt.Errorf("step %q is not a number in 1-%d", step, f.max)
		}
	}
	if base == "*" {
		return nil
	}
	lo, hi, isRange := strings.Cut(base, "-")
	a, err := f.value(lo)
	if err != nil || !isRange {
		return err
	}
	b, err := f.value(hi)
	if err != nil {
		return err
	}
	if a > b {
		return fmt.Errorf("range %s runs backwards", base)
	}
	return nil
}

// value parses a single value: a number in the field's range, or a name.
func (f cronField) value(s string) (int, error) {
	for i, n := range f.names {
		if strings.EqualFold(s, n) {
			return f.min + i, nil
		}
	}
	v, err := strconv.Atoi(s)
	switch {
	case err != nil:
		return 0, fmt.Errorf("%q is not a value", s)
	case v < f.min || v > f.max:
		return 0, fmt.Errorf("%d is outside %d-%d", v, f.min, f.max)
	}
	return v, nil
}

// lastOrWeekday accepts day-of-month's L (last day), LW (last weekday) and
// nW (the weekday nearest day n).
func lastOrWeekday(f cronField, part string) (bool, error) {
	if part == "L" || part == "LW" {
		return true, nil
	}
	if day, ok := strings.CutSuffix(part, "W"); ok {
		_, err := f.value(day)
		return true, err
	}
	return false, nil
}

// lastOrNth accepts day-of-week's L (Saturday), nL (the last day n of the
// month) and n#k (the k-th day n of the month).
func lastOrNth(f cronField, part string) (bool, error) {
	if part == "L" {
		return true, nil
	}
	if day, ok := strings.CutSuffix(part, "L"); ok {
		_, err := f.value(day)
		return true, err
	}
	if day, nth, ok := strings.Cut(part, "#"); ok {
		if _, err := f.value(day); err != nil {
			return true, err
		}
		if k, err := strconv.Atoi(nth); err != nil || k < 1 || k > 5 {
			return true, fmt.Errorf("%q: the week after # must be 1-5", part)
		}
		return true, nil
	}
	return false, nil
}
