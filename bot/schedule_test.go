package bot

import (
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/slack-go/slack"

	"github.com/qovery-slack-bot/qovery-slack-bot/commands"
)

// Every message about a schedule names the cluster escaped, carries its buttons only where they
// belong, and fits Slack's limits.
func TestScheduleBlocks(t *testing.T) {
	r := commands.ScheduleRecord{ID: "3f2a9c1e", Verb: commands.VerbStop, ClusterID: uuid.New(), ClusterName: "<!channel> & co",
		Hour: 19, Days: commands.Weekdays, Zone: "Europe/Paris", CreatedBy: "U1", ChannelID: "C1", ConfirmedBy: "U2", Protected: true}
	at := time.Date(2026, 12, 7, 18, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		kind    commands.ScheduleMessageKind
		buttons []string
		says    []string
	}{
		{commands.ScheduleAsk, []string{commands.ActionScheduleCreate, commands.ActionScheduleCancel},
			[]string{"Create this schedule? Every weekday at 19:00 Europe/Paris: stop *&lt;!channel&gt; &amp; co*. Next: Mon 7 Dec 19:00 CET", "Protected cluster", "expires in 10 minutes", "`3f2a9c1e`"}},
		{commands.ScheduleCreated, nil, []string{"Schedule `3f2a9c1e` created.", "created by <@U2>", "`/qovery unschedule 3f2a9c1e`"}},
		{commands.ScheduleAskCancelled, nil, []string{"cancelled by <@U3>"}},
		{commands.ScheduleAskExpired, nil, []string{"expired"}},
		{commands.ScheduleHeadsUp, []string{commands.ActionScheduleSkip}, []string{"Heads-up: *&lt;!channel&gt; &amp; co* will be stopped at Mon 7 Dec 19:00 CET (schedule `3f2a9c1e` by <@U1>)"}},
		{commands.ScheduleHeadsUpDone, nil, []string{"was due to be stopped at Mon 7 Dec 19:00 CET"}},
		{commands.ScheduleSkipped, nil, []string{"Skipped by <@U3>", "will not be stopped at Mon 7 Dec 19:00 CET"}},
	} {
		blocks, fallback := scheduleBlocks(commands.ScheduleMessage{Kind: c.kind, Schedule: r, At: at, By: "U3", Value: "v"}, 10*time.Minute)
		text, js := shown(t, blocks), blocksJSON(t, blocks)
		for _, want := range c.says {
			if !strings.Contains(text, want) {
				t.Errorf("%s: %s lacks %q", c.kind, text, want)
			}
		}
		if strings.Contains(js, `"broadcast"`) || fallback == "" || strings.Contains(fallback, "<!channel>") {
			t.Errorf("%s: the cluster's name became markup, or no fallback: %s / %q", c.kind, js, fallback)
		}
		var got []string
		for _, b := range blocks {
			if a, ok := b.(*slack.ActionBlock); ok {
				for _, e := range a.Elements.ElementSet {
					got = append(got, e.(*slack.ButtonBlockElement).ActionID)
				}
			}
		}
		if strings.Join(got, ",") != strings.Join(c.buttons, ",") {
			t.Errorf("%s: buttons %v; want %v", c.kind, got, c.buttons)
		}
	}
}
