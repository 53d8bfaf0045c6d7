package commands

import (
	"context"
	"sort"
	"strings"

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
			lines := []Text{Say("Several clusters match ", Code(typed), ". Name one by its id:")}
			for _, c := range matches {
				lines = append(lines, Say("• ", Code(c.Name), " (id ", Code(c.ID.String()), ", "+c.CloudProvider+" "+c.Region+")"))
			}
			return qovery.Cluster{}, &UserError{Msg: Lines(lines...)}
		}
	}

	msg := Say("No cluster named ", Code(typed), " in this organization.")
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

// closestNames ranks cluster names by edit distance to typed (case-insensitive), names containing
// what was typed first, and returns at most limit of them.
func closestNames(clusters []qovery.Cluster, typed string, limit int) []string {
	type scored struct {
		name  string
		score int
	}
	want := strings.ToLower(typed)
	var all []scored
	for _, c := range clusters {
		name := strings.ToLower(c.Name)
		score := levenshtein(want, name)
		if want != "" && (strings.Contains(name, want) || strings.Contains(want, name)) {
			score -= len(want) // a substring match is the strongest hint
		}
		// Suggest only names that share something with what was typed.
		if score > max(len(want), len(name))*2/3 {
			continue
		}
		all = append(all, scored{c.Name, score})
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
