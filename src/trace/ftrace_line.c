/* Splitting ftrace text lines into the common prefix and the event.
 *
 *   kernel:    "  bash-1234  [001] d..1.  5117.385652: map: IOMMU: iova=..."
 *   +tgid:     "  bash-1234  (   1234) [001] .....  5117.385652: ..."
 *   trace-cmd: "  bash-1234  [001]  5117.385652: map:    IOMMU: iova=..."
 *   lost:      "CPU:1 [LOST 42 EVENTS]" (trace-cmd: "CPU:1 [42 EVENTS DROPPED]")
 *
 * The task name may contain spaces and dashes, so the line is anchored
 * on the "[CPU]" field and the pid is the digits after the last dash. */
#include "trace/ftrace.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

static bool all_digits(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	return true;
}

static bool parse_dec32(const char *s, size_t n, uint32_t *out)
{
	uint64_t v = 0;

	if (!all_digits(s, n) || n > 10)
		return false;
	for (size_t i = 0; i < n; i++)
		v = v * 10 + (uint64_t)(s[i] - '0');
	if (v > UINT32_MAX)
		return false;
	*out = (uint32_t)v;
	return true;
}

/* "SSSS.FFFFFF:" (1..9 fraction digits) or "NNNN:" (a counter clock). */
static bool parse_time(const char *s, size_t n, uint64_t *ns)
{
	const char *dot;
	uint64_t sec = 0, frac = 0;
	size_t ilen, flen;

	if (n < 2 || s[n - 1] != ':')
		return false;
	n--;
	dot = memchr(s, '.', n);
	ilen = dot ? (size_t)(dot - s) : n;
	flen = dot ? n - ilen - 1 : 0;
	if (!all_digits(s, ilen) || ilen > 19 || (dot && (!all_digits(dot + 1, flen) || flen > 9)))
		return false;
	for (size_t i = 0; i < ilen; i++) {
		uint64_t d = (uint64_t)(s[i] - '0');

		if (sec > (UINT64_MAX - d) / 10)
			return false;
		sec = sec * 10 + d;
	}
	if (!dot) {
		*ns = sec;
		return true;
	}
	for (size_t i = 0; i < 9; i++)
		frac = frac * 10 + (i < flen ? (uint64_t)(dot[1 + i] - '0') : 0);
	if (sec > (UINT64_MAX - frac) / 1000000000u)
		return false;
	*ns = sec * 1000000000u + frac;
	return true;
}

/* Lost-event markers; returns true, the CPU and the count when @s is one. */
static bool parse_lost(const char *s, uint32_t *cpu, uint64_t *count)
{
	const char *p = s + 4, *q;
	unsigned long long n;
	int used = 0;

	if (strncmp(s, "CPU:", 4) != 0)
		return false;
	while (isdigit((unsigned char)*p))
		p++;
	if (p == s + 4 || *p != ' ' || !parse_dec32(s + 4, (size_t)(p - s - 4), cpu))
		return false;
	q = p + 1;
	if (sscanf(q, "[LOST %llu EVENTS]%n", &n, &used) == 1 && q[used] == '\0') {
		*count = n;
		return true;
	}
	used = 0;
	if (sscanf(q, "[%llu EVENTS DROPPED]%n", &n, &used) == 1 && q[used] == '\0') {
		*count = n;
		return true;
	}
	return false;
}

/* "# entries-in-buffer/entries-written: 5/10   #P:2" */
static uint64_t header_lost(const char *s)
{
	unsigned long long in, written;

	if (sscanf(s, "# entries-in-buffer/entries-written: %llu/%llu", &in, &written) == 2 &&
	    written > in)
		return written - in;
	return 0;
}

static bool is_header(const char *s)
{
	unsigned n;
	int used = 0;

	if (s[0] == '#')
		return true;
	/* trace-cmd report preamble */
	if (sscanf(s, "cpus=%u%n", &n, &used) == 1 && s[used] == '\0')
		return true;
	used = 0;
	if (sscanf(s, "version = %u%n", &n, &used) == 1 && s[used] == '\0')
		return true;
	used = 0;
	if (sscanf(s, "CPU %u is empty%n", &n, &used) == 1 && s[used] == '\0')
		return true;
	return false;
}

static bool is_event_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '-' || c == '.';
}

void ftrace_split_line(char *line, struct ftrace_line *out)
{
	size_t len = strlen(line);
	char *p, *open, *close, *tok, *q;
	size_t toklen;

	memset(out, 0, sizeof(*out));
	while (len && (line[len - 1] == '\n' || line[len - 1] == '\r' ||
		       line[len - 1] == ' ' || line[len - 1] == '\t'))
		line[--len] = '\0';
	p = line;
	while (*p == ' ' || *p == '\t')
		p++;
	out->kind = FTRACE_LINE_OTHER;
	if (*p == '\0' || is_header(p)) {
		out->kind = FTRACE_LINE_BLANK;
		if (*p == '#')
			out->lost = header_lost(p);
		return;
	}
	if (parse_lost(p, &out->cpu, &out->lost)) {
		out->kind = FTRACE_LINE_LOST;
		return;
	}

	/* the first " [digits] " field is the CPU */
	for (open = strchr(p, '['); open; open = strchr(open + 1, '[')) {
		close = strchr(open, ']');
		if (open > p && open[-1] == ' ' && close && close[1] == ' ' &&
		    parse_dec32(open + 1, (size_t)(close - open - 1), &out->cpu))
			break;
	}
	if (!open)
		return;

	/* TASK-PID, maybe followed by "(TGID)" */
	q = open - 1;
	while (q > p && q[-1] == ' ')
		q--;
	if (q > p && q[-1] == ')') {
		char *lp = q - 1;

		while (lp > p && *lp != '(')
			lp--;
		if (*lp != '(')
			return;
		q = lp;
		while (q > p && q[-1] == ' ')
			q--;
	}
	{
		char *dash = q;

		while (dash > p && dash[-1] != '-')
			dash--;
		if (dash <= p || !parse_dec32(dash, (size_t)(q - dash), &out->pid))
			return;
	}

	/* optional irq/preempt flags, then the timestamp */
	tok = close + 1;
	while (*tok == ' ')
		tok++;
	toklen = strcspn(tok, " ");
	if (!parse_time(tok, toklen, &out->time_ns)) {
		if (toklen == 0 || toklen > 8 || memchr(tok, ':', toklen))
			return;
		tok += toklen;
		while (*tok == ' ')
			tok++;
		toklen = strcspn(tok, " ");
		if (!parse_time(tok, toklen, &out->time_ns))
			return;
	}
	tok += toklen;
	while (*tok == ' ')
		tok++;

	/* EVENT: */
	q = tok;
	while (is_event_char(*q))
		q++;
	if (q == tok || *q != ':' || (q[1] != ' ' && q[1] != '\0'))
		return;
	out->event = tok;
	out->event_len = (size_t)(q - tok);
	q++;
	while (*q == ' ')
		q++;
	out->body = q;
	out->kind = FTRACE_LINE_EVENT;
}

int ftrace_read_line(FILE *f, char *buf, size_t cap)
{
	size_t n = 0;
	bool nul = false;
	int c;

	while ((c = getc(f)) != EOF && c != '\n') {
		if (c == '\0')
			nul = true;
		if (n + 1 >= cap) {
			/* drain the rest so the caller may go on if it wants */
			while ((c = getc(f)) != EOF && c != '\n')
				;
			buf[n] = '\0';
			return -E2BIG;
		}
		buf[n++] = (char)c;
	}
	buf[n] = '\0';
	if (c == EOF && ferror(f))
		return -(errno ? errno : EIO);
	if (c == EOF && n == 0)
		return 0;
	return nul ? -EILSEQ : 1;
}
