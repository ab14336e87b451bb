package bench

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/valyala/fastjson"
)

// Limits bound what one response may make the client hold or do, so that
// no server, however broken or hostile, can take the load generator's
// memory or time with it: a line, an event, an error body, the number of
// events and the generated text of a request. Each violation ends that
// request as a failure whose reason names the bound; the defaults are far
// above what vLLM, or any OpenAI-compatible server, sends.
type Limits struct {
	MaxLineBytes      int // one SSE line
	MaxEventBytes     int // the data of one SSE event (its data lines joined)
	MaxErrorBodyBytes int // the body of a non-2xx answer that is read for its message
	MaxChunks         int // SSE events per request, and lines without data; 0: 4 × max_tokens + 1024
}

// DefaultLimits are generous for real servers: vLLM's largest chunk (a
// token with top-20 logprobs) is a few KiB, its error bodies under 1 KiB.
var DefaultLimits = Limits{MaxLineBytes: 1 << 20, MaxEventBytes: 4 << 20, MaxErrorBodyBytes: 64 << 10}

// withDefaults fills unset bounds from DefaultLimits.
func (l Limits) withDefaults() Limits {
	if l.MaxLineBytes <= 0 {
		l.MaxLineBytes = DefaultLimits.MaxLineBytes
	}
	if l.MaxEventBytes <= 0 {
		l.MaxEventBytes = DefaultLimits.MaxEventBytes
	}
	if l.MaxErrorBodyBytes <= 0 {
		l.MaxErrorBodyBytes = DefaultLimits.MaxErrorBodyBytes
	}
	return l
}

// chunksFor is the bound on events for a request of maxTokens: a server
// sends one event per token or fewer (plus a role, a usage and a [DONE]
// event), so four per token is already a broken server.
func (l Limits) chunksFor(maxTokens int) int {
	if l.MaxChunks > 0 {
		return l.MaxChunks
	}
	return 4*max(maxTokens, 0) + 1024
}

// errLimit is a bound of Limits reached; its message is the failure reason.
type errLimit struct{ msg string }

func (e *errLimit) Error() string { return e.msg }

// errMalformedSSE is a line that is not SSE at all.
var errMalformedSSE = errors.New("malformed SSE")

// sseReader reads one response's server-sent events incrementally into
// buffers reused across events and, through a pool, across requests: the
// bytes of an event are valid until the next call to next. It holds no
// more than a line and an event, each bounded by Limits.
type sseReader struct {
	br        *bufio.Reader
	line      []byte // a line longer than br's buffer, assembled
	event     []byte // the data lines of the current event, joined by \n
	lim       Limits
	maxChunks int
	events    int // data events returned
	idle      int // non-blank lines without data

	// The decoding state of the stream, pooled with its reader.
	parser fastjson.Parser
	ck     chunk
	text   []byte // generated text, for counting when there is no usage
}

// sseBufferBytes is the read buffer of each stream: a vLLM chunk is a few
// hundred bytes, so one read usually takes several of them.
const sseBufferBytes = 4 << 10

var sseReaders = sync.Pool{New: func() any {
	return &sseReader{br: bufio.NewReaderSize(nil, sseBufferBytes)}
}}

// newSSEReader takes a reader from the pool; put returns it.
func newSSEReader(r io.Reader, lim Limits, maxChunks int) *sseReader {
	s := sseReaders.Get().(*sseReader)
	s.br.Reset(r)
	s.lim, s.maxChunks, s.events, s.idle = lim, maxChunks, 0, 0
	s.line, s.event = s.line[:0], s.event[:0]
	return s
}

func (s *sseReader) put() {
	s.br.Reset(nil)
	// A hostile line or event may have grown the buffers: do not keep
	// those in the pool, so that one bad response cannot pin its memory.
	if cap(s.line) > 64<<10 {
		s.line = nil
	}
	if cap(s.event) > 64<<10 {
		s.event = nil
	}
	if cap(s.text) > 64<<10 || cap(s.ck.text) > 64<<10 {
		s.text, s.ck.text, s.parser = nil, nil, fastjson.Parser{}
	}
	sseReaders.Put(s)
}

// readLine returns the next line without its line ending; io.EOF at the
// end of the body (a last line without a newline is returned first).
func (s *sseReader) readLine() ([]byte, error) {
	b, err := s.br.ReadSlice('\n')
	if err == nil {
		return trimEOL(b), nil
	}
	if !errors.Is(err, bufio.ErrBufferFull) {
		if len(b) > 0 && errors.Is(err, io.EOF) {
			return trimEOL(b), nil
		}
		return nil, err
	}
	s.line = append(s.line[:0], b...)
	for {
		b, err = s.br.ReadSlice('\n')
		if len(s.line)+len(b) > s.lim.MaxLineBytes {
			return nil, &errLimit{fmt.Sprintf("SSE line longer than %d bytes (--max-line-bytes)", s.lim.MaxLineBytes)}
		}
		s.line = append(s.line, b...)
		switch {
		case err == nil, errors.Is(err, io.EOF) && len(s.line) > 0:
			return trimEOL(s.line), nil
		case !errors.Is(err, bufio.ErrBufferFull):
			return nil, err
		}
	}
}

func trimEOL(b []byte) []byte {
	b = bytes.TrimSuffix(b, []byte{'\n'})
	return bytes.TrimSuffix(b, []byte{'\r'})
}

// next returns the data of the next event, or io.EOF at the end of the
// stream ("data: [DONE]" or the end of the body). firstData is called when
// the event's first data line has been read, so the event is timed as it
// arrives, not after it is decoded. Lines other than data, blank lines and
// comments are skipped (event:, id:, retry: carry nothing the metrics use).
func (s *sseReader) next(firstData func()) ([]byte, error) {
	s.event = s.event[:0]
	has := false
	for {
		line, err := s.readLine()
		if errors.Is(err, io.EOF) && has {
			return s.dispatch()
		}
		if err != nil {
			return nil, err
		}
		if len(line) == 0 {
			if has {
				return s.dispatch()
			}
			continue
		}
		field, value, found := bytes.Cut(line, []byte{':'})
		if !found {
			field, value = line, nil
		}
		value = bytes.TrimPrefix(value, []byte{' '})
		switch string(field) {
		case "data":
			if !has {
				firstData()
			} else {
				s.event = append(s.event, '\n')
			}
			has = true
			if len(s.event)+len(value) > s.lim.MaxEventBytes {
				return nil, &errLimit{fmt.Sprintf("SSE event larger than %d bytes (--max-event-bytes)", s.lim.MaxEventBytes)}
			}
			s.event = append(s.event, value...)
		case "", "event", "id", "retry":
			s.idle++
			if s.idle > s.maxChunks {
				return nil, &errLimit{fmt.Sprintf("malformed SSE: more than %d lines without data (--max-chunks)", s.maxChunks)}
			}
		default:
			return nil, fmt.Errorf("%w: line %q is not an SSE field", errMalformedSSE, clip(line, 60))
		}
	}
}

func (s *sseReader) dispatch() ([]byte, error) {
	if bytes.Equal(s.event, []byte("[DONE]")) {
		return nil, io.EOF
	}
	s.events++
	if s.events > s.maxChunks {
		return nil, &errLimit{fmt.Sprintf("more than %d SSE events in one response (--max-chunks)", s.maxChunks)}
	}
	return s.event, nil
}

// clip shortens b to n bytes for a message, marking the cut.
func clip(b []byte, n int) string {
	if len(b) <= n {
		return string(b)
	}
	return string(b[:n]) + "…"
}
