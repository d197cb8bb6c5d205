"""Chat answers: a second kind of source, one per request, streamed token by token.

`model` is the deterministic fake language model; `request` reads and checks a question.
The transports that serve answers live in lab/transports/ beside the ticker's.
"""
