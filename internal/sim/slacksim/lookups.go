package slacksim

import (
	"net/url"
	"strings"
)

// usersInfo serves users.info. Every user is in UTC so that rendered
// times do not depend on the machine running the tests.
func (s *Server) usersInfo(args url.Values) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[args.Get("user")]
	if !ok {
		return fail("user_not_found")
	}
	return reply{"ok": true, "user": map[string]any{
		"id": u.id, "team_id": s.cfg.teamID, "name": u.name, "deleted": false,
		"real_name": u.realName, "tz": "UTC", "tz_label": "Coordinated Universal Time",
		"tz_offset": 0, "is_bot": u.isBot, "is_admin": false, "locale": "en-US",
		"profile": map[string]any{
			"real_name": u.realName, "real_name_normalized": u.realName,
			"display_name": u.name, "display_name_normalized": u.name,
			"team": s.cfg.teamID,
		},
	}}
}

// getPermalink serves chat.getPermalink. A thread reply's link names its
// thread, as Slack's does.
func (s *Server) getPermalink(args url.Values) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch, ok := s.channels[args.Get("channel")]
	if !ok {
		return fail("channel_not_found")
	}
	m, ok := s.msgIndex[ch.id+"/"+args.Get("message_ts")]
	if !ok || m.Deleted {
		return fail("message_not_found")
	}
	link := "https://" + s.teamDomain() + ".slack.com/archives/" + ch.id + "/p" + strings.ReplaceAll(m.TS, ".", "")
	if m.ThreadTS != "" {
		link += "?thread_ts=" + m.ThreadTS + "&cid=" + ch.id
	}
	return reply{"ok": true, "channel": ch.id, "permalink": link}
}

// conversationsReplies serves conversations.replies: the parent then its replies, oldest first, in
// one page. Metadata is returned only with include_all_metadata, as in Slack.
func (s *Server) conversationsReplies(args url.Values) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch, ok := s.channels[args.Get("channel")]
	if !ok {
		return fail("channel_not_found")
	}
	if !ch.botMember {
		return fail("not_in_channel")
	}
	parent, ok := s.msgIndex[ch.id+"/"+args.Get("ts")]
	if !ok || parent.Deleted {
		return fail("thread_not_found")
	}
	withMeta := truthy(args.Get("include_all_metadata"))
	var msgs []wireMessage
	for _, m := range s.msgs[ch.id] {
		if m.Deleted || (m.TS != parent.TS && m.ThreadTS != parent.TS) {
			continue
		}
		wm := s.wireMessageLocked(m)
		if !withMeta {
			wm.Metadata = nil
		}
		msgs = append(msgs, wm)
	}
	return reply{"ok": true, "messages": msgs, "has_more": false}
}

// usergroupUsers serves usergroups.users.list. The fake has no disabled
// groups, so include_disabled changes nothing.
func (s *Server) usergroupUsers(args url.Values) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.usergroups[args.Get("usergroup")]
	if !ok {
		return fail("no_such_subteam")
	}
	return reply{"ok": true, "users": append([]string{}, g.members...)}
}

// conversationsInfo serves conversations.info.
func (s *Server) conversationsInfo(args url.Values) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch, ok := s.channels[args.Get("channel")]
	if !ok {
		return fail("channel_not_found")
	}
	return reply{"ok": true, "channel": map[string]any{
		"id": ch.id, "name": ch.name, "name_normalized": ch.name,
		"is_channel": true, "is_group": false, "is_im": false, "is_private": false,
		"is_archived": false, "is_member": ch.botMember, "created": baseEpoch,
	}}
}
