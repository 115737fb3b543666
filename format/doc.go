// Package format turns events and payloads into bytes on a writer: text,
// JSON, raw, escaping and colour. Writers are always passed in; output is
// buffered and written out by Flush, which callers call when their input
// is idle.
//
// The output rules, stated once:
//
// Stdout carries only data: events, or the payloads of messages. Messages
// for the user and errors go to stderr and are not this package's concern.
//
// Escaping: a payload printed as text is escaped by Escape so that it
// always fits on one line and Unescape recovers it byte for byte: \n, \t,
// \r and \\ for newline, tab, carriage return and backslash, \xNN for other
// control bytes (below 0x20, and 0x7f) and for every byte that is not part
// of valid UTF-8. Valid UTF-8 is printed as it is.
//
// Text events (TextEncoder): one line per event, tab-separated columns,
// the first four always there, so that a field is picked by position the
// same way from every command:
//
//	EVENT  CLIENT  TIME  PAYLOAD  [pid=N uid=N gid=N]  [key=value...]
//
// CLIENT is the client id, or "-" when the event concerns no client. TIME
// is in TimeLayout (RFC 3339, UTC, nanoseconds). PAYLOAD is the payload,
// escaped; it is empty when the event has none (Data is nil) and for an
// empty message. The peer's credentials follow on connection events, then
// the record's fields in order, each value escaped like a payload (a list
// of strings, such as a bus client's groups, as its elements separated by
// spaces). So a line splits on tabs, and a payload is never taken for a
// field.
//
// JSON events (JSONEncoder): one object per line, with the keys in this
// order: "event"; "client" (a string) when there is a client; "time" in
// TimeLayout; the payload as "data" (a string) when it is valid UTF-8, else
// as "data_b64" (standard base64); "pid", "uid" and "gid" on connection
// events; then each field under its own key: integers, floats and bools as
// JSON literals, lists of strings as arrays, durations as strings like
// "1.5s", times as TimeLayout strings, errors and anything else as
// strings. A field whose key is one
// of those built-in keys is written as "field_KEY", so a key never
// appears twice in an object.
//
// Payloads (PayloadWriter), for send --wait, listen and connect: Text
// prints each message escaped on its own line, so "hello" prints
// "hello\n"; Raw prints the exact bytes with nothing added; JSON prints one
// {"event":"message","time":...,"data":...} object per message.
//
// Colour is decided in one place, UseColor, and carried in a Style value;
// the package never sets color.NoColor.
package format
