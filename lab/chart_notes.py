"""What to look at in each chart: the note report.md and the notebook print under it, by
chart name (lab.charts). Pure text."""

from __future__ import annotations

CHART_NOTES = {
    "01_requests_per_event": "The key chart. Follow each colour from left to right: short "
    "polling's requests per event fall as 1 ÷ (events per interval), because it asks on a "
    "clock, not on news; long polling stays near one request per event at every rate; SSE "
    "makes none once its stream is open. Where short polling's line crosses 1, the two "
    "pollers cost the same.",
    "02_bytes_vs_rate": "The same story in bytes: every request carries a few hundred bytes "
    "of headers, so short polling is dear when events are rare (one event pays for many "
    "empty polls) and cheaper than long polling when several events share a poll. SSE pays "
    "a few dozen bytes of framing per event at any rate.",
    "03_server_cpu_vs_rate": "What the server's processor pays per delivered event, read "
    "from the labels (the axis is logarithmic). A request costs tens to hundreds of "
    "microseconds whatever it carries; an SSE event is one write on an open stream.",
    "04_latency_vs_users": "Look at the gap between short polling, whose delay is set by its "
    "interval, and the two push transports, and at whether any p99 line bends upward as users "
    "grow: that is the server or the load generator saturating.",
    "05_latency_cdf": "Short polling's curve is a ramp across the poll interval (an event "
    "waits a random part of it), the push transports rise steeply near zero; the top of each "
    "curve is the tail.",
    "06_latency_vs_rtt": "On loopback the push transports deliver in about a millisecond; "
    "with a network's round trip added, every transport pays half of it one way, and long "
    "polling a whole one for events that arrive while it reconnects. This is where the "
    "textbook's 100–200 ms for long polling comes from.",
    "07_requests_vs_users": "Compare each transport's dots with its faint theory line: short "
    "polling asks users ÷ interval times a second whatever happens, long polling about once "
    "per event per user, SSE once per stream (0 at the bottom: its streams were open before "
    "the window).",
    "08_bytes_per_event": "The overhead part of each bar is what the transport wraps around "
    "the same payload: HTTP request and response heads per poll against a few lines of "
    "framing per SSE message.",
    "09_empty_polls": "The dots should sit on the theory curve of their arrival process: the "
    "more events per poll interval, the fewer polls come back with nothing.",
    "10_latency_over_time": "Check that the median is flat once all users are in; a p99 that "
    "climbs through the window means a queue is building somewhere.",
    "11_latency_by_proxy": "Compare each profile with 'direct'. A proxy set up for streams "
    "(passthrough) adds about a millisecond; one that buffers holds an SSE stream's events "
    "until its buffer fills and then lets them go together (a tall bar, many events per "
    "read). Poll answers are whole responses, so buffering does not delay them.",
    "13_chat_latency": "Left: every transport waits for the model's first token, and "
    "short polling then waits for its next poll. Middle: a streamed or long-polled token is "
    "in the user's hands within milliseconds of being made; a short-polled one waits for "
    "the next poll, up to a whole interval. Right: pushed tokens come at the model's own "
    "pace; polled ones come in clumps (a gap of 0 inside a clump, then a whole interval).",
    "14_chat_requests": "What one answer costs in HTTP requests: SSE one, whatever the "
    "answer's length; long polling one per token, because each token comes long after a "
    "round trip; short polling one per interval the answer lasts, plus the question.",
    "12_idle_timeout": "Each pair differs only in a timer of the server's: a heartbeat or a "
    "hold shorter than the proxy's timeout keeps the connection; a longer one meets it, and "
    "the stream is cut (SSE reconnects with Last-Event-ID) or the poll gets a 504.",
}
