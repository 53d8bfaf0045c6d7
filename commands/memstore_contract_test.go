package commands_test

import (
	"testing"

	"github.com/qovery-slack-bot/qovery-slack-bot/commands"
	"github.com/qovery-slack-bot/qovery-slack-bot/commands/storetest"
)

// TestMemoryStoreContract holds the in-memory store to the contract the durable stores keep, so
// that tests written against it mean the same thing in production.
func TestMemoryStoreContract(t *testing.T) {
	storetest.Run(t, func(*testing.T) commands.Store { return commands.NewMemoryStore() })
}

func TestMemoryScheduleContract(t *testing.T) {
	storetest.RunSchedules(t, func(*testing.T) commands.ScheduleStore { return commands.NewMemoryStore() })
}
