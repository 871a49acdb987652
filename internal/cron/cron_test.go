package cron

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestParseRefuses(t *testing.T) {
	for _, tc := range []struct {
		expr, want string
		fieldCount bool
	}{
		{expr: "every minute", want: "it has 2 fields, not 5", fieldCount: true},
		{expr: "* * * * * *", want: "it has 6 fields, not 5", fieldCount: true},
		{expr: "99 25 * * *", want: "minute 99 is outside 0-59, hour 25 is outside 0-23"},
		{expr: "0 0 L * 5#6", want: `day-of-week "5#6": the week after # must be 1-5`},
		{expr: "*/0 * 0 FOO SUN-SAT", want: `minute step "0" is not a number in 1-59, day-of-month 0 is outside 1-31, month "FOO" is not a value`},
		{expr: "0 0 * * 5-2", want: "day-of-week range 5-2 runs backwards"},
		{expr: "0 0 32W * *", want: "day-of-month 32 is outside 1-31"},
		{expr: "0 0 * * 8L", want: "day-of-week 8 is outside 1-7"},
		{expr: "0 0 * * X#1", want: `day-of-week "X" is not a value`},
		{expr: "0,60 0 * * *", want: "minute 60 is outside 0-59"},
		{expr: "0 0 * */13 *", want: `month step "13" is not a number in 1-12`},
	} {
		t.Run(tc.expr, func(t *testing.T) {
			s, err := Parse(tc.expr)
			require.Nil(t, s)
			require.EqualError(t, err, tc.want)
			require.Equal(t, tc.fieldCount, errors.Is(err, ErrFieldCount))
		})
	}
}

// TestMatches checks every form Parse accepts against fixed dates. In 2024,
// June 1st is a Saturday and June 30th a Sunday, March 31st a Sunday,
// November 30th a Saturday, September 15th a Sunday, April has no 31st and
// February has 29 days.
func TestMatches(t *testing.T) {
	for _, tc := range []struct {
		name, expr string
		fires, not []string // "2006-01-02 15:04", UTC
	}{
		{name: "every minute", expr: "* * * * *",
			fires: []string{"2024-06-01 00:00", "2024-12-31 23:59"}},
		{name: "a minute step", expr: "*/15 * * * *",
			fires: []string{"2024-06-01 10:00", "2024-06-01 10:15", "2024-06-01 10:45"},
			not:   []string{"2024-06-01 10:05", "2024-06-01 10:59"}},
		{name: "a value with a step runs to the field's end", expr: "50/5 * * * *",
			fires: []string{"2024-06-01 10:50", "2024-06-01 10:55"},
			not:   []string{"2024-06-01 10:00", "2024-06-01 10:45", "2024-06-01 10:51"}},
		{name: "a range with a step", expr: "3-59/20 * * * *",
			fires: []string{"2024-06-01 10:03", "2024-06-01 10:23", "2024-06-01 10:43"},
			not:   []string{"2024-06-01 10:00", "2024-06-01 10:20"}},
		{name: "lists of values and ranges", expr: "0,30 9-11,17 * * *",
			fires: []string{"2024-06-01 09:00", "2024-06-01 11:30", "2024-06-01 17:00"},
			not:   []string{"2024-06-01 12:00", "2024-06-01 09:15", "2024-06-01 08:30"}},
		{name: "month names, any case", expr: "0 0 1 jan,Jul *",
			fires: []string{"2024-01-01 00:00", "2024-07-01 00:00"},
			not:   []string{"2024-06-01 00:00"}},
		{name: "a month step starts at January", expr: "0 0 1 */3 *",
			fires: []string{"2024-01-01 00:00", "2024-04-01 00:00", "2024-10-01 00:00"},
			not:   []string{"2024-03-01 00:00"}},
		{name: "Sunday is 1", expr: "0 17 * * 1",
			fires: []string{"2024-06-30 17:00"},
			not:   []string{"2024-07-01 17:00", "2024-06-29 17:00"}},
		{name: "SUN is 1", expr: "0 17 * * sun",
			fires: []string{"2024-06-30 17:00"},
			not:   []string{"2024-07-01 17:00"}},
		{name: "weekdays by name", expr: "10 7 * * MON-FRI",
			fires: []string{"2024-06-03 07:10", "2024-06-28 07:10"},
			not:   []string{"2024-06-01 07:10", "2024-06-30 07:10"}},
		{name: "weekdays by number", expr: "10 7 * * 2-6",
			fires: []string{"2024-06-03 07:10", "2024-06-28 07:10"},
			not:   []string{"2024-06-01 07:10", "2024-06-30 07:10"}},
		{name: "SAT is 7", expr: "0 0 * * 7",
			fires: []string{"2024-06-01 00:00"},
			not:   []string{"2024-06-30 00:00"}},
		{name: "a day-of-week step starts at Sunday", expr: "0 0 * * */2",
			fires: []string{"2024-06-30 00:00", "2024-06-04 00:00", "2024-06-01 00:00"},
			not:   []string{"2024-06-03 00:00"}},
		{name: "the first of the month", expr: "0 15 1 * *",
			fires: []string{"2024-06-01 15:00", "2024-02-01 15:00"},
			not:   []string{"2024-06-02 15:00", "2024-06-01 16:00"}},
		{name: "L is the last day of the month", expr: "0 0 L * *",
			fires: []string{"2024-02-29 00:00", "2024-04-30 00:00", "2024-03-31 00:00"},
			not:   []string{"2024-02-28 00:00", "2024-03-30 00:00"}},
		{name: "LW on a month ending on a weekday", expr: "59 23 LW * *",
			fires: []string{"2024-04-30 23:59"},
			not:   []string{"2024-04-26 23:59"}},
		{name: "LW on a month ending on a Sunday", expr: "59 23 LW * *",
			fires: []string{"2024-03-29 23:59"},
			not:   []string{"2024-03-31 23:59", "2024-04-01 23:59"}},
		{name: "LW on a month ending on a Saturday", expr: "59 23 LW * *",
			fires: []string{"2024-11-29 23:59"},
			not:   []string{"2024-11-30 23:59"}},
		{name: "nW on a weekday is the day", expr: "0 0 30W * *",
			fires: []string{"2024-04-30 00:00"},
			not:   []string{"2024-04-29 00:00"}},
		{name: "nW on a Saturday is the Friday before", expr: "0 0 15W * *",
			fires: []string{"2024-06-14 00:00"},
			not:   []string{"2024-06-15 00:00", "2024-06-17 00:00"}},
		{name: "nW on a Sunday is the Monday after", expr: "0 0 15W * *",
			fires: []string{"2024-09-16 00:00"},
			not:   []string{"2024-09-13 00:00", "2024-09-15 00:00"}},
		{name: "1W on a Saturday is the Monday after, not the month before", expr: "0 0 1W * *",
			fires: []string{"2024-06-03 00:00"},
			not:   []string{"2024-05-31 00:00", "2024-06-01 00:00"}},
		{name: "the last day W on a Sunday is the Friday before, not the month after", expr: "0 0 30W * *",
			fires: []string{"2024-06-28 00:00"},
			not:   []string{"2024-06-30 00:00", "2024-07-01 00:00"}},
		{name: "nW in a month without day n", expr: "0 0 31W * *",
			fires: []string{"2024-05-31 00:00"},
			not:   []string{"2024-04-30 00:00", "2024-05-01 00:00"}},
		{name: "day-of-week L is Saturday", expr: "0 0 * * L",
			fires: []string{"2024-06-01 00:00", "2024-06-29 00:00"},
			not:   []string{"2024-06-30 00:00"}},
		{name: "nL is the last day n of the month", expr: "0 18 * * 6L",
			fires: []string{"2024-05-31 18:00", "2024-06-28 18:00"},
			not:   []string{"2024-05-24 18:00", "2024-06-21 18:00"}},
		{name: "nL by name", expr: "0 18 * * friL",
			fires: []string{"2024-05-31 18:00"},
			not:   []string{"2024-05-24 18:00"}},
		{name: "n#k is the k-th day n of the month", expr: "0 9 * * MON#1",
			fires: []string{"2024-09-02 09:00", "2024-07-01 09:00"},
			not:   []string{"2024-09-09 09:00", "2024-06-10 09:00"}},
		{name: "a fifth week", expr: "0 9 * * 1#5",
			fires: []string{"2024-06-30 09:00"},
			not:   []string{"2024-06-23 09:00", "2024-07-28 09:00"}},
		{name: "special forms in a list", expr: "0 0 1,L * *",
			fires: []string{"2024-06-01 00:00", "2024-06-30 00:00"},
			not:   []string{"2024-06-15 00:00"}},
		{name: "both day fields restricted: either matches", expr: "0 0 13 * 6",
			fires: []string{"2024-06-13 00:00", "2024-06-07 00:00", "2024-09-13 00:00"},
			not:   []string{"2024-06-12 00:00", "2024-06-08 00:00"}},
		{name: "a stepped day field is restricted", expr: "0 0 */10 * MON",
			fires: []string{"2024-06-11 00:00", "2024-06-03 00:00"},
			not:   []string{"2024-06-12 00:00"}},
		{name: "day-of-month alone restricts", expr: "0 0 13 * *",
			fires: []string{"2024-06-13 00:00"},
			not:   []string{"2024-06-07 00:00"}},
		{name: "day-of-week alone restricts", expr: "0 0 * * 6",
			fires: []string{"2024-06-07 00:00"},
			not:   []string{"2024-06-13 00:00"}},
		{name: "the month restricts both day fields", expr: "0 0 13 JUN 6",
			fires: []string{"2024-06-13 00:00", "2024-06-07 00:00"},
			not:   []string{"2024-09-13 00:00", "2024-09-06 00:00"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Parse(tc.expr)
			require.NoError(t, err)
			for _, at := range tc.fires {
				require.True(t, s.Matches(utc(t, at)), "%q fires at %s", tc.expr, at)
			}
			for _, at := range tc.not {
				require.False(t, s.Matches(utc(t, at)), "%q does not fire at %s", tc.expr, at)
			}
		})
	}
}

// TestMatchesInUTC: Cloudflare runs cron triggers in UTC, whatever the
// zone of the time asked about.
func TestMatchesInUTC(t *testing.T) {
	s, err := Parse("0 0 1 * *")
	require.NoError(t, err)
	plus2 := time.FixedZone("UTC+2", 2*60*60)
	require.True(t, s.Matches(time.Date(2024, 6, 1, 2, 0, 0, 0, plus2)))
	require.False(t, s.Matches(time.Date(2024, 6, 1, 0, 0, 0, 0, plus2)))
}

func utc(t *testing.T, s string) time.Time {
	t.Helper()
	at, err := time.Parse("2006-01-02 15:04", s)
	require.NoError(t, err)
	return at
}
