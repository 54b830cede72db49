/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "ll_util.h"
#include "ll_build.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

void ll_autofree_cleanup(void *pp)
{
	void **p = pp;

	free(*p);
	*p = NULL;
}

static const char *const side_names[LL_SIDE_COUNT] = {
	[LL_SIDE_AGENT] = "agent",
	[LL_SIDE_APPLET] = "applet",
};

const char *ll_side_name(enum ll_side side)
{
	if ((unsigned)side >= LL_ARRAY_SIZE(side_names))
		return NULL;
	return side_names[side];
}

int ll_side_from_name(const char *name, enum ll_side *out)
{
	size_t i;

	if (name == NULL)
		return LL_ERR_INVALID_ARG;
	for (i = 0; i < LL_ARRAY_SIZE(side_names); i++) {
		if (strcmp(name, side_names[i]) == 0) {
			*out = (enum ll_side)i;
			return LL_OK;
		}
	}
	return LL_ERR_INVALID_ARG;
}

bool ll_pin_well_formed(const char *s)
{
	size_t i;

	if (s == NULL)
		return false;
	for (i = 0; s[i] >= '0' && s[i] <= '9'; i++)
		;
	return s[i] == '\0' && i >= LL_PIN_MIN_DIGITS &&
	       i <= LL_PIN_MAX_DIGITS;
}

bool ll_channel_credential_well_formed(const char *s)
{
	const size_t pre = sizeof(LL_CHANNEL_CREDENTIAL_PREFIX) - 1;
	size_t i;

	if (s == NULL || strncmp(s, LL_CHANNEL_CREDENTIAL_PREFIX, pre) != 0)
		return false;
	for (i = pre;
	     (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') ||
	     (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_';
	     i++)
		;
	return s[i] == '\0' && i == LL_CHANNEL_CREDENTIAL_LEN;
}

#if LL_TEST_HOOKS
/*
 * The test clock (see ll_util.h).  Compiled only with -Dtest_hooks=true,
 * which scripts/test.sh sets and a production build leaves off; even then
 * it stays idle until a program is told the file explicitly (the relay's
 * hidden `serve --test-clock-file FILE`), never by the environment.
 */
static char *test_clock_path;
static int64_t test_clock_offset;

static int test_clock_read(const char *path, int64_t *offset)
{
	char buf[32], *end;
	long long v;
	size_t n;
	FILE *f;

	if ((f = fopen(path, "re")) == NULL)
		return LL_ERR_IO;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	errno = 0;
	v = strtoll(buf, &end, 10);
	if (end == buf || errno != 0 || strspn(end, " \t\r\n") != strlen(end))
		return LL_ERR_MALFORMED;
	*offset = (int64_t)v;
	return LL_OK;
}

int ll_test_clock_use(const char *path)
{
	int64_t offset = 0;
	int r;

	if (path == NULL)
		return LL_ERR_INVALID_ARG;
	if ((r = test_clock_read(path, &offset)) != LL_OK)
		return r;
	free(test_clock_path);
	if ((test_clock_path = strdup(path)) == NULL)
		return LL_ERR_NOMEM;
	test_clock_offset = offset;
	return LL_OK;
}
#endif

int64_t ll_now_unix(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
#if LL_TEST_HOOKS
	/* A file being replaced is read again next time: keep the last. */
	if (test_clock_path != NULL)
		test_clock_read(test_clock_path, &test_clock_offset);
	return (int64_t)ts.tv_sec + test_clock_offset;
#else
	return (int64_t)ts.tv_sec;
#endif
}

int64_t ll_now_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void ll_format_rfc3339(int64_t unix_seconds, char *buf, size_t bufsize)
{
	time_t t = (time_t)unix_seconds;
	struct tm tm;

	if (bufsize == 0)
		return;
	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, bufsize, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		buf[0] = '\0';
}

static bool parse_digits(const char *s, size_t n, int *out)
{
	int v = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

/* Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

int ll_parse_rfc3339(const char *text, int64_t *unix_seconds)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30,
				     31, 31, 30, 31, 30, 31 };
	int y, mo, d, h, mi, s, oh = 0, om = 0, sign = 0;
	const char *p;
	size_t len;

	if (text == NULL || unix_seconds == NULL)
		return LL_ERR_INVALID_ARG;
	len = strlen(text);
	/* YYYY-MM-DDTHH:MM:SS then optional .fraction then Z or +hh:mm */
	if (len < 20 || text[4] != '-' || text[7] != '-' ||
	    (text[10] != 'T' && text[10] != 't' && text[10] != ' ') ||
	    text[13] != ':' || text[16] != ':')
		return LL_ERR_MALFORMED;
	if (!parse_digits(text, 4, &y) || !parse_digits(text + 5, 2, &mo) ||
	    !parse_digits(text + 8, 2, &d) ||
	    !parse_digits(text + 11, 2, &h) ||
	    !parse_digits(text + 14, 2, &mi) ||
	    !parse_digits(text + 17, 2, &s))
		return LL_ERR_MALFORMED;
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 ||
	    mi > 59 || s > 60)
		return LL_ERR_MALFORMED;
	p = text + 19;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return LL_ERR_MALFORMED;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if ((*p == 'Z' || *p == 'z') && p[1] == '\0') {
		sign = 0;
	} else if ((*p == '+' || *p == '-') && strlen(p) == 6 && p[3] == ':' &&
		   parse_digits(p + 1, 2, &oh) &&
		   parse_digits(p + 4, 2, &om) && oh <= 23 && om <= 59) {
		sign = *p == '+' ? 1 : -1;
	} else {
		return LL_ERR_MALFORMED;
	}
	*unix_seconds = days_from_civil(y, mo, d) * 86400 + h * 3600 +
			mi * 60 + (s == 60 ? 59 : s) -
			sign * (oh * 3600 + om * 60);
	return LL_OK;
}
