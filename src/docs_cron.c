/*-------------------------------------------------------------------------
 *
 * docs_cron.c
 *	  The next time a pg_cron schedule fires, for the docs page.
 *
 * pg_cron 1.4 takes the five fields of cron (minute, hour, day of month,
 * month, day of week) with lists, ranges, steps and names, and the
 * @hourly-style macros; its times are GMT.  Like cron, when both the day
 * of month and the day of week are restricted, a day matching either
 * fires.  A schedule this does not understand has no next time on the page
 * (pg_cron itself validated it when the schedule was made).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "datatype/timestamp.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/datetime.h"

#include "docs.h"

PG_FUNCTION_INFO_V1(medallion_cron_next);

/* One field: the values it allows, and whether it was "*" (or "*\/n"). */
typedef struct CronField
{
	uint64		allowed;
	bool		star;
} CronField;

static const char *const month_names[] = {
	"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec", NULL
};
static const char *const day_names[] = {
	"sun", "mon", "tue", "wed", "thu", "fri", "sat", NULL
};

/* A number or a name (names[i] stands for first + i); -1 when neither. */
static int
cron_value(const char **p, const char *const *names, int first)
{
	int			value = 0;

	if (isdigit((unsigned char) **p))
	{
		while (isdigit((unsigned char) **p) && value < 1000)
			value = value * 10 + (*(*p)++ - '0');
		return value;
	}
	for (int i = 0; names != NULL && names[i] != NULL; i++)
	{
		if (pg_strncasecmp(*p, names[i], 3) == 0)
		{
			*p += 3;
			return first + i;
		}
	}
	return -1;
}

/*
 * parse_field
 *		One field of min..max ("*", "a", "a-b", each with an optional "/n",
 *		separated by commas).  false when it is not one.
 */
static bool
parse_field(const char *text, int min, int max, const char *const *names,
			CronField *field)
{
	const char *p = text;

	field->allowed = 0;
	field->star = false;
	for (;;)
	{
		int			low,
					high,
					step = 1;
		bool		range = true;

		if (*p == '*')
		{
			low = min;
			high = max;
			/* as cron: a field that starts with "*" leaves the day to the other */
			field->star = field->star || p == text;
			p++;
		}
		else
		{
			low = high = cron_value(&p, names, min);
			range = *p == '-';
			if (range)
			{
				p++;
				high = cron_value(&p, names, min);
			}
		}
		if (*p == '/')
		{
			/* a step follows "*" or a range, never a single value */
			if (!range)
				return false;
			p++;
			step = cron_value(&p, NULL, 0);
			if (step <= 0)
				return false;
		}
		if (low < min || high > max || low > high)
			return false;
		for (int v = low; v <= high; v += step)
			field->allowed |= UINT64CONST(1) << v;
		if (*p == '\0')
			return true;
		if (*p++ != ',')
			return false;
	}
}

/* The five fields of an expression or of a macro. */
static bool
parse_cron(const char *cron, CronField fields[5])
{
	static const struct
	{
		const char *macro;
		const char *fields;
	}			macros[] = {
		{"@yearly", "0 0 1 1 *"}, {"@annually", "0 0 1 1 *"},
		{"@monthly", "0 0 1 * *"}, {"@weekly", "0 0 * * 0"},
		{"@daily", "0 0 * * *"}, {"@midnight", "0 0 * * *"},
		{"@hourly", "0 * * * *"},
	};
	static const int mins[5] = {0, 0, 1, 1, 0};
	static const int maxs[5] = {59, 23, 31, 12, 7};
	const char *const *names[5] = {NULL, NULL, NULL, month_names, day_names};
	char	   *copy;
	char	   *save = NULL;
	char	   *word;
	int			n = 0;

	for (int i = 0; i < lengthof(macros); i++)
	{
		if (pg_strcasecmp(cron, macros[i].macro) == 0)
			cron = macros[i].fields;
	}
	copy = pstrdup(cron);
	for (word = strtok_r(copy, " \t", &save); word != NULL; word = strtok_r(NULL, " \t", &save))
	{
		if (n == 5 || !parse_field(word, mins[n], maxs[n], names[n], &fields[n]))
			return false;
		n++;
	}
	if (n != 5)
		return false;
	/* Sunday is 0 or 7 */
	if (fields[4].allowed & (UINT64CONST(1) << 7))
		fields[4].allowed |= 1;
	return true;
}

/* The first allowed value of a field from "from" on, or -1. */
static int
first_from(const CronField *field, int from, int max)
{
	for (int v = from; v <= max; v++)
	{
		if (field->allowed & (UINT64CONST(1) << v))
			return v;
	}
	return -1;
}

/*
 * DocsCronNext
 *		The first time after "after" (GMT, to the minute) that cron fires;
 *		false when the expression is not understood or fires on no day of
 *		the next eight years (31 February, say).
 */
bool
DocsCronNext(const char *cron, TimestampTz after, TimestampTz *next)
{
	CronField	fields[5];
	struct pg_tm tm;
	fsec_t		fsec;
	int			julian;

	TimestampTz within;

	if (!parse_cron(cron, fields) || TIMESTAMP_NOT_FINITE(after))
		return false;
	/* from the next whole minute (before 2000 the remainder is negative) */
	within = after % USECS_PER_MINUTE;
	if (within < 0)
		within += USECS_PER_MINUTE;
	after = after - within + USECS_PER_MINUTE;
	if (timestamp2tm(after, NULL, &tm, &fsec, NULL, NULL) != 0)
		return false;
	julian = date2j(tm.tm_year, tm.tm_mon, tm.tm_mday);
	for (int day = 0; day < 8 * 366; day++, julian++)
	{
		int			year,
					month,
					mday;
		int			wday = j2day(julian);
		bool		dom_ok,
					dow_ok,
					day_ok;
		int			hour = 0,
					minute = 0;

		j2date(julian, &year, &month, &mday);
		if (!(fields[3].allowed & (UINT64CONST(1) << month)))
			continue;
		dom_ok = (fields[2].allowed & (UINT64CONST(1) << mday)) != 0;
		dow_ok = (fields[4].allowed & (UINT64CONST(1) << wday)) != 0;
		if (fields[2].star || fields[4].star)
			day_ok = dom_ok && dow_ok;
		else
			day_ok = dom_ok || dow_ok;
		if (!day_ok)
			continue;
		if (day == 0)
		{
			hour = tm.tm_hour;
			minute = tm.tm_min;
		}
		for (int h = first_from(&fields[1], hour, 23); h >= 0;
			 h = first_from(&fields[1], h + 1, 23))
		{
			int			m = first_from(&fields[0], h == hour ? minute : 0, 59);

			if (m < 0)
				continue;
			tm.tm_year = year;
			tm.tm_mon = month;
			tm.tm_mday = mday;
			tm.tm_hour = h;
			tm.tm_min = m;
			tm.tm_sec = 0;
			return tm2timestamp(&tm, 0, NULL, next) == 0;
		}
	}
	return false;
}

/*
 * medallion.cron_next(cron, after) returns the first time after "after"
 * that a pg_cron schedule fires, or NULL when the expression is not one
 * this understands.
 */
Datum
medallion_cron_next(PG_FUNCTION_ARGS)
{
	char	   *cron = text_to_cstring(PG_GETARG_TEXT_PP(0));
	TimestampTz next;

	if (!DocsCronNext(cron, PG_GETARG_TIMESTAMPTZ(1), &next))
		PG_RETURN_NULL();
	PG_RETURN_TIMESTAMPTZ(next);
}
