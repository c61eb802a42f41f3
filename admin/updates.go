package admin

import (
	"encoding/json"
	"fmt"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

// update is a tgbotapi.Update with what tgbotapi v5.5.1 (Bot API 5.5) does not read: the forum
// topic its message was written in. In a supergroup with topics, a reply without
// message_thread_id lands in the General topic, away from the admin who asked.
type update struct {
	tgbotapi.Update
	// thread is the topic (message_thread_id) of the message, or of the message a pressed
	// button is under; 0 outside topics, the General topic included.
	thread int
}

// topicFields are a Message's forum fields (Bot API 6.0+).
// Specs: https://core.telegram.org/bots/api#message (message_thread_id, is_topic_message)
type topicFields struct {
	ThreadID int  `json:"message_thread_id"`
	IsTopic  bool `json:"is_topic_message"`
}

// topic is the forum topic of a message: message_thread_id only with is_topic_message. A reply
// in the General topic, or in a group without topics, also has a message_thread_id (the id of
// the message it answers), which a send refuses: "Bad Request: message thread not found".
func (t *topicFields) topic() int {
	if t == nil || !t.IsTopic {
		return 0
	}
	return t.ThreadID
}

func (u *update) UnmarshalJSON(data []byte) error {
	if err := json.Unmarshal(data, &u.Update); err != nil {
		return err
	}
	var extra struct {
		Message       *topicFields `json:"message"`
		CallbackQuery *struct {
			Message *topicFields `json:"message"`
		} `json:"callback_query"`
	}
	if err := json.Unmarshal(data, &extra); err != nil {
		return err
	}
	u.thread = extra.Message.topic()
	if extra.CallbackQuery != nil {
		u.thread = extra.CallbackQuery.Message.topic()
	}
	return nil
}

// getUpdates is tgbotapi's GetUpdates, decoding the answer into updates that keep the topic.
// Specs: https://core.telegram.org/bots/api#getupdates
func (b *Bot) getUpdates(uc tgbotapi.UpdateConfig) ([]update, error) {
	resp, err := b.api.Request(uc)
	if err != nil {
		return nil, err
	}
	var us []update
	if err := json.Unmarshal(resp.Result, &us); err != nil {
		return nil, fmt.Errorf("decoding updates: %w", err)
	}
	return us, nil
}

// dest is where a reply goes: a chat and, in a supergroup with topics, the topic
// (message_thread_id; 0 for none, the General topic).
type dest struct {
	chat   int64
	thread int
}
