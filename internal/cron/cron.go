// Package cron reads the cron expressions of Cloudflare's cron triggers and
// tells the minutes they fire in. It is the one reading of them: the
// configuration's validation refuses what Parse refuses, and the local
// emulator fires a trigger in the minutes Matches accepts.
//
// The syntax is Cloudflare's (five fields, Quartz-like extensions):
// minute 0-59, hour 0-23, day-of-month 1-31 with L, LW and nW, month 1-12
// or JAN-DEC, day-of-week 1-7 or SUN-SAT (1 is Sunday) with L, nL and n#k;
// every field takes *, values, ranges, /steps and comma lists.
package cron

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ErrFieldCount is in Parse's error for an expression that has not five
// fields, which callers word apart: it is likely no cron expression at all.
var ErrFieldCount = errors.New("not 5")

// Schedule is a parsed cron expression.
type Schedule struct {
	minute, hour, dayOfMonth, month, dayOfWeek set
}

// set is what one field of an expression accepts: plain values, and the
// day forms (L, W, #) whose days depend on the month.
type set struct {
	values uint64 // bit v set: value v matches
	days   []func(t time.Time) bool
	// all says the field is *, which the two day fields read apart.
	all bool
}

// has reports whether v, t's value of the field, matches.
func (s set) has(v int, t time.Time) bool {
	return s.values&(1<<v) != 0 || slices.ContainsFunc(s.days, func(day func(time.Time) bool) bool { return day(t) })
}

// field is one of the five fields of a Cloudflare cron trigger, with the
// range and names Cloudflare's documentation gives it.
type field struct {
	name     string
	min, max int
	names    []string // the names of min, min+1, ...
	// special reads the field's own forms (L, W, #): handled says part
	// was one of them, and day is the test of the days it fires on.
	special func(f field, part string) (day func(time.Time) bool, handled bool, err error)
}

var fields = [...]field{
	{name: "minute", min: 0, max: 59},
	{name: "hour", min: 0, max: 23},
	{name: "day-of-month", min: 1, max: 31, special: lastOrWeekday},
	{name: "month", min: 1, max: 12, names: []string{"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"}},
	{name: "day-of-week", min: 1, max: 7, names: []string{"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"}, special: lastOrNth},
}

// Parse reads expr, reporting everything in it Cloudflare's cron parser
// would refuse: a wrong number of fields (ErrFieldCount), values outside a
// field's range, malformed steps and special forms.
func Parse(expr string) (*Schedule, error) {
	parts := strings.Fields(expr)
	if len(parts) != len(fields) {
		return nil, fmt.Errorf("it has %d fields, %w", len(parts), ErrFieldCount)
	}
	var sets [len(fields)]set
	var errs []string
	for i, f := range fields {
		sets[i].all = parts[i] == "*"
		for _, part := range strings.Split(parts[i], ",") {
			if err := f.add(&sets[i], part); err != nil {
				errs = append(errs, fmt.Sprintf("%s %v", f.name, err))
			}
		}
	}
	if len(errs) > 0 {
		return nil, errors.New(strings.Join(errs, ", "))
	}
	return &Schedule{minute: sets[0], hour: sets[1], dayOfMonth: sets[2], month: sets[3], dayOfWeek: sets[4]}, nil
}

// Matches reports whether the schedule fires in t's minute. Cloudflare runs
// cron triggers in UTC, so t is read in UTC. When both day fields are
// restricted (not *), a day matching either suffices, as in Vixie cron and
// in saffron, the parser behind Cloudflare's cron triggers.
func (s *Schedule) Matches(t time.Time) bool {
	t = t.UTC()
	if !s.minute.has(t.Minute(), t) || !s.hour.has(t.Hour(), t) || !s.month.has(int(t.Month()), t) {
		return false
	}
	dom, dow := s.dayOfMonth.has(t.Day(), t), s.dayOfWeek.has(dayOfWeek(t.Weekday()), t)
	switch {
	case s.dayOfMonth.all:
		return dow
	case s.dayOfWeek.all:
		return dom
	default:
		return dom || dow
	}
}

// add reads one element of a field's list into s: *, a value or a range,
// each with an optional /step, or one of the field's special forms.
func (f field) add(s *set, part string) error {
	if f.special != nil {
		if day, handled, err := f.special(f, part); handled {
			if err == nil {
				s.days = append(s.days, day)
			}
			return err
		}
	}
	base, stepText, stepped := strings.Cut(part, "/")
	step := 1
	if stepped {
		n, err := strconv.Atoi(stepText)
		if err != nil || n < 1 || n > f.max {
			return fmt.Errorf("step %q is not a number in 1-%d", stepText, f.max)
		}
		step = n
	}
	lo, hi := f.min, f.max
	if base != "*" {
		first, last, isRange := strings.Cut(base, "-")
		a, err := f.value(first)
		if err != nil {
			return err
		}
		lo = a
		switch {
		case isRange:
			b, err := f.value(last)
			if err != nil {
				return err
			}
			if a > b {
				return fmt.Errorf("range %s runs backwards", base)
			}
			hi = b
		case !stepped:
			hi = a // a single value; a value with a step runs to the field's end
		}
	}
	for v := lo; v <= hi; v += step {
		s.values |= 1 << v
	}
	return nil
}

// value parses a single value: a number in the field's range, or a name.
func (f field) value(s string) (int, error) {
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

// lastOrWeekday reads day-of-month's L (last day), LW (last weekday) and
// nW (the weekday nearest day n).
func lastOrWeekday(f field, part string) (func(time.Time) bool, bool, error) {
	switch part {
	case "L":
		return func(t time.Time) bool { return t.Day() == daysIn(t) }, true, nil
	case "LW":
		return func(t time.Time) bool { return t.Day() == weekdayNearest(t, daysIn(t)) }, true, nil
	}
	if day, ok := strings.CutSuffix(part, "W"); ok {
		n, err := f.value(day)
		return func(t time.Time) bool { return t.Day() == weekdayNearest(t, n) }, true, err
	}
	return nil, false, nil
}

// lastOrNth reads day-of-week's L (Saturday), nL (the last day n of the
// month) and n#k (the k-th day n of the month).
func lastOrNth(f field, part string) (func(time.Time) bool, bool, error) {
	if part == "L" {
		return func(t time.Time) bool { return t.Weekday() == time.Saturday }, true, nil
	}
	if day, ok := strings.CutSuffix(part, "L"); ok {
		n, err := f.value(day)
		return func(t time.Time) bool { return dayOfWeek(t.Weekday()) == n && t.Day()+7 > daysIn(t) }, true, err
	}
	if day, nth, ok := strings.Cut(part, "#"); ok {
		n, err := f.value(day)
		if err != nil {
			return nil, true, err
		}
		k, err := strconv.Atoi(nth)
		if err != nil || k < 1 || k > 5 {
			return nil, true, fmt.Errorf("%q: the week after # must be 1-5", part)
		}
		return func(t time.Time) bool { return dayOfWeek(t.Weekday()) == n && (t.Day()-1)/7+1 == k }, true, nil
	}
	return nil, false, nil
}

// dayOfWeek is Cloudflare's number for d: Sunday is 1, Saturday 7.
func dayOfWeek(d time.Weekday) int { return int(d) + 1 }

// daysIn is the number of days in t's month.
func daysIn(t time.Time) int {
	return time.Date(t.Year(), t.Month()+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// weekdayNearest is the day of t's month that is the weekday (Monday to
// Friday) nearest day n, never in another month: n itself, the Friday
// before a Saturday (the Monday after when n is the 1st), the Monday after
// a Sunday (the Friday before when n is the last day). It is 0, no day,
// when the month is shorter than n.
func weekdayNearest(t time.Time, n int) int {
	last := daysIn(t)
	if n > last {
		return 0
	}
	switch time.Date(t.Year(), t.Month(), n, 0, 0, 0, 0, time.UTC).Weekday() {
	case time.Saturday:
		if n == 1 {
			return 3
		}
		return n - 1
	case time.Sunday:
		if n == last {
			return n - 2
		}
		return n + 1
	}
	return n
}
