package commands

import (
	"context"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/qovery-slack-bot/qovery-slack-bot/qovery"
)

// maxSuggestions bounds the "did you mean" list of a cluster that was not found.
const maxSuggestions = 5

// findCluster resolves what the user typed among the organization's clusters: by id, then exact
// name, then case-insensitive name (Qovery says names are case-insensitive; its CLI compares them
// exactly, so an exact match wins). An ambiguous or missing name is a *UserError listing the
// candidates or the closest names.
func (h *Handler) findCluster(ctx context.Context, typed string) (qovery.Cluster, error) {
	clusters, err := h.clusters(ctx)
	if err != nil {
		return qovery.Cluster{}, qoveryError("list the organization's clusters", err)
	}
	return resolveCluster(clusters, typed)
}

func resolveCluster(clusters []qovery.Cluster, typed string) (qovery.Cluster, error) {
	typed = strings.TrimSpace(typed)
	if id, err := uuid.Parse(typed); err == nil {
		for _, c := range clusters {
			if c.ID == id {
				return c, nil
			}
		}
	}
	var exact, folded []qovery.Cluster
	for _, c := range clusters {
		name := strings.TrimSpace(c.Name)
		switch {
		case name == typed:
			exact = append(exact, c)
		case strings.EqualFold(name, typed):
			folded = append(folded, c)
		}
	}
	for _, matches := range [][]qovery.Cluster{exact, folded} {
		switch len(matches) {
		case 0:
			continue
		case 1:
			return matches[0], nil
		default:
			lines := []Text{Say("Several clusters match ", Typed(typed), ". Name one by its id:")}
			for _, c := range matches {
				lines = append(lines, Say("• ", Code(c.Name), " (id ", Code(c.ID.String()), ", "+c.CloudProvider+" "+c.Region+")"))
			}
			return qovery.Cluster{}, &UserError{Msg: Lines(lines...)}
		}
	}

	msg := Say("No cluster named ", Typed(typed), " in this organization.")
	if names := closestNames(clusters, typed, maxSuggestions); len(names) > 0 {
		quoted := make([]Text, len(names))
		for i, n := range names {
			quoted[i] = Say(Code(n))
		}
		msg = Say(msg, " Did you mean ", Join(quoted, ", "), "?")
	}
	msg = Say(msg, " ", Code(CommandName+" list"), " shows them all.")
	return qovery.Cluster{}, &UserError{Msg: msg}
}

// closestNames returns at most limit cluster names close to typed, closest first: names that start
// with or contain what was typed (three characters or more), then names within a third of their
// length in edits. Case is ignored, and lengths count characters, not bytes, so that a name in
// another script is compared as fairly as a Latin one. A name that shares nothing with typed is never
// suggested.
func closestNames(clusters []qovery.Cluster, typed string, limit int) []string {
	type scored struct {
		name  string
		score int
	}
	want := strings.ToLower(strings.TrimSpace(typed))
	var all []scored
	for _, c := range clusters {
		if score, ok := closeness(want, strings.ToLower(strings.TrimSpace(c.Name))); ok {
			all = append(all, scored{c.Name, score})
		}
	}
	sort.SliceStable(all, func(i, j int) bool {
		if all[i].score != all[j].score {
			return all[i].score < all[j].score
		}
		return all[i].name < all[j].name
	})
	var names []string
	for _, s := range all {
		if len(names) == limit {
			break
		}
		names = append(names, s.name)
	}
	return names
}

// minSubstring is the shortest input that suggests every name containing it: "prod" finds
// "production-eu", but "a" or "eu" would find most names.
const minSubstring = 3

// closeness scores how close name is to typed (both lower-cased), lower being closer, and reports
// whether it is close enough to suggest.
func closeness(typed, name string) (score int, ok bool) {
	n, m := utf8.RuneCountInString(typed), utf8.RuneCountInString(name)
	if n == 0 || m == 0 {
		return 0, false
	}
	d := levenshtein(typed, name)
	switch {
	case strings.HasPrefix(name, typed) && n >= minSubstring:
		return d - 2*n, true // the strongest hint: the start of the name
	case (strings.Contains(name, typed) && n >= minSubstring) || (strings.Contains(typed, name) && m >= minSubstring):
		return d - n, true
	case 3*d <= max(n, m): // at most one edit in three characters
		return d, true
	}
	return 0, false
}

// levenshtein is the edit distance between a and b, counted in runes.
func levenshtein(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
