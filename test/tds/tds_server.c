/*-------------------------------------------------------------------------
 *
 * tds_server.c
 *	  A small TDS 7.x server for medallion's tests: FreeTDS and tds_fdw
 *	  connect to it as they would to SQL Server.
 *
 * It speaks the subset of MS-TDS that DB-Library (FreeTDS) and tds_fdw use:
 * PRELOGIN (no encryption), LOGIN7 with a user and password, SQL batches,
 * and replies made of COLMETADATA / ROW / DONE tokens, with ERROR tokens
 * for failures.  Queries run on SQLite: each SQL Server schema is an
 * attached database file of that name, so "[Sales].[SalesOrderHeader]"
 * means what it says, and the column types declared in the fixture
 * ("money", "nvarchar(50)", "datetime2(7)", ...) decide the wire types.
 * INFORMATION_SCHEMA is derived from the fixture for IMPORT FOREIGN
 * SCHEMA, and SET SHOWPLAN_ALL ON makes the next SELECT return a plan row
 * (Parent, EstimateRows) as tds_fdw's showplan_all estimate expects.
 *
 * Usage:
 *	  tds_server --dir DIR [--fixture FILE] [--port N] [--port-file FILE]
 *				 [--user U] [--password P] [--log FILE] [--fail-file FILE]
 *
 * --fixture loads a SQLite script into DIR (one <schema>.db per schema named
 * in its CREATE TABLE statements); without it DIR is used as it is.  Every
 * batch is appended to --log.  While --fail-file holds a number N > 0, the
 * next N batches that read data are answered by closing the connection
 * (N is decremented): a dropped connection, for retry tests; "N K" lets K
 * reading batches through first.  Each client
 * connection is served by a child process; writes (INSERT, UPDATE through
 * tsql) go to the files and are seen by later connections.
 *
 *-------------------------------------------------------------------------
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <sqlite3.h>

/* packet types */
#define PKT_BATCH		0x01
#define PKT_REPLY		0x04
#define PKT_ATTENTION	0x06
#define PKT_LOGIN7		0x10
#define PKT_PRELOGIN	0x12

/* tokens */
#define TOK_COLMETADATA 0x81
#define TOK_ERROR		0xAA
#define TOK_INFO		0xAB
#define TOK_LOGINACK	0xAD
#define TOK_ROW			0xD1
#define TOK_ENVCHANGE	0xE3
#define TOK_DONE		0xFD

#define DONE_MORE		0x0001
#define DONE_ERROR		0x0002
#define DONE_COUNT		0x0010
#define DONE_ATTN		0x0020

#define TDS72			0x72090002u
#define TDS73			0x730B0003u
#define TDS74			0x74000004u

/* SQL_Latin1_General_CP1_CI_AS */
static const unsigned char collation[5] = {0x09, 0x04, 0xD0, 0x00, 0x34};

static const char *opt_dir;
static const char *opt_user = "medallion";
static const char *opt_password = "medallion";
static const char *opt_log;
static const char *opt_fail_file;

/* ----------------------------------------------------------------
 * Byte buffers
 * ---------------------------------------------------------------- */

typedef struct Buf
{
	unsigned char *data;
	size_t		len;
	size_t		cap;
} Buf;

static void
die(const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	fprintf(stderr, "tds_server: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(1);
}

static void
put(Buf *b, const void *p, size_t n)
{
	if (b->len + n > b->cap)
	{
		b->cap = (b->len + n) * 2 + 64;
		b->data = realloc(b->data, b->cap);
		if (b->data == NULL)
			die("out of memory");
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

static void
put_u8(Buf *b, unsigned v)
{
	unsigned char c = (unsigned char) v;

	put(b, &c, 1);
}

static void
put_le(Buf *b, uint64_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		put_u8(b, (unsigned) (v >> (8 * i)) & 0xFF);
}

static void
put_be16(Buf *b, unsigned v)
{
	put_u8(b, (v >> 8) & 0xFF);
	put_u8(b, v & 0xFF);
}

/* Decode one UTF-8 code point; advances *s. */
static uint32_t
utf8_next(const unsigned char **s)
{
	const unsigned char *p = *s;
	uint32_t	c = *p++;
	int			extra = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : c >= 0xC0 ? 1 : 0;

	if (extra > 0)
		c &= 0x3F >> extra;
	for (; extra > 0 && (*p & 0xC0) == 0x80; extra--)
		c = (c << 6) | (*p++ & 0x3F);
	*s = p;
	return c;
}

/* Append UTF-8 text as UTF-16LE; returns the number of UTF-16 units. */
static size_t
put_ucs2(Buf *b, const char *utf8)
{
	const unsigned char *s = (const unsigned char *) utf8;
	size_t		units = 0;

	while (*s)
	{
		uint32_t	c = utf8_next(&s);

		if (c >= 0x10000)
		{
			c -= 0x10000;
			put_le(b, 0xD800 + (c >> 10), 2);
			put_le(b, 0xDC00 + (c & 0x3FF), 2);
			units += 2;
		}
		else
		{
			put_le(b, c, 2);
			units++;
		}
	}
	return units;
}

/* B_VARCHAR: one-byte length in characters, then UTF-16LE */
static void
put_bvarchar(Buf *b, const char *s)
{
	Buf			tmp = {0};
	size_t		n = put_ucs2(&tmp, s);

	put_u8(b, n);
	put(b, tmp.data, tmp.len);
	free(tmp.data);
}

/* US_VARCHAR: two-byte length in characters, then UTF-16LE */
static void
put_usvarchar(Buf *b, const char *s)
{
	Buf			tmp = {0};
	size_t		n = put_ucs2(&tmp, s);

	put_le(b, n, 2);
	put(b, tmp.data, tmp.len);
	free(tmp.data);
}

/* UTF-16LE (n units) to a malloc'd UTF-8 string */
static char *
ucs2_to_utf8(const unsigned char *p, size_t units)
{
	char	   *out = malloc(units * 4 + 1);
	char	   *o = out;

	for (size_t i = 0; i < units; i++)
	{
		uint32_t	c = p[2 * i] | (p[2 * i + 1] << 8);

		if (c >= 0xD800 && c < 0xDC00 && i + 1 < units)
		{
			uint32_t	lo = p[2 * i + 2] | (p[2 * i + 3] << 8);

			c = 0x10000 + ((c - 0xD800) << 10) + (lo - 0xDC00);
			i++;
		}
		if (c < 0x80)
			*o++ = c;
		else if (c < 0x800)
		{
			*o++ = 0xC0 | (c >> 6);
			*o++ = 0x80 | (c & 0x3F);
		}
		else if (c < 0x10000)
		{
			*o++ = 0xE0 | (c >> 12);
			*o++ = 0x80 | ((c >> 6) & 0x3F);
			*o++ = 0x80 | (c & 0x3F);
		}
		else
		{
			*o++ = 0xF0 | (c >> 18);
			*o++ = 0x80 | ((c >> 12) & 0x3F);
			*o++ = 0x80 | ((c >> 6) & 0x3F);
			*o++ = 0x80 | (c & 0x3F);
		}
	}
	*o = '\0';
	return out;
}

/* ----------------------------------------------------------------
 * Connections: packets in, messages out
 * ---------------------------------------------------------------- */

typedef struct Conn
{
	int			fd;
	uint32_t	version;		/* negotiated TDS version */
	int			packet_size;
	sqlite3    *db;
	bool		showplan;		/* SET SHOWPLAN_ALL ON */
	int			packet_id;		/* of the message being sent */
} Conn;

static bool
read_full(int fd, void *p, size_t n)
{
	unsigned char *c = p;

	while (n > 0)
	{
		ssize_t		r = read(fd, c, n);

		if (r <= 0)
		{
			if (r < 0 && errno == EINTR)
				continue;
			return false;
		}
		c += r;
		n -= r;
	}
	return true;
}

static void
write_full(int fd, const void *p, size_t n)
{
	const unsigned char *c = p;

	while (n > 0)
	{
		ssize_t		w = write(fd, c, n);

		if (w <= 0)
		{
			if (w < 0 && errno == EINTR)
				continue;
			exit(0);			/* the client went away */
		}
		c += w;
		n -= w;
	}
}

/* Read one message (packets up to end-of-message); false at EOF. */
static bool
read_message(Conn *conn, int *type, Buf *msg)
{
	unsigned char hdr[8];

	msg->len = 0;
	for (;;)
	{
		size_t		len;
		unsigned char *body;

		if (!read_full(conn->fd, hdr, 8))
			return false;
		len = (hdr[2] << 8) | hdr[3];
		if (len < 8)
			return false;
		body = malloc(len - 8);
		if (!read_full(conn->fd, body, len - 8))
			return false;
		put(msg, body, len - 8);
		free(body);
		*type = hdr[0];
		if (hdr[1] & 0x01)
			return true;
	}
}

/*
 * Send msg as packets of the negotiated size.  With final false only full
 * packets go out and the rest stays in msg: a big result streams, and its
 * last packet carries end-of-message.
 */
static void
send_packets(Conn *conn, int type, Buf *msg, bool final)
{
	size_t		max = conn->packet_size - 8;
	size_t		off = 0;

	while (msg->len - off > max || (final && (off < msg->len || msg->len == 0)))
	{
		size_t		n = msg->len - off < max ? msg->len - off : max;
		bool		last = final && off + n == msg->len;
		Buf			pkt = {0};

		put_u8(&pkt, type);
		put_u8(&pkt, last ? 0x01 : 0x00);
		put_be16(&pkt, n + 8);
		put_be16(&pkt, 0x34);	/* spid */
		put_u8(&pkt, ++conn->packet_id);
		put_u8(&pkt, 0);
		put(&pkt, msg->data + off, n);
		write_full(conn->fd, pkt.data, pkt.len);
		free(pkt.data);
		off += n;
		if (last)
			break;
	}
	memmove(msg->data, msg->data + off, msg->len - off);
	msg->len -= off;
	if (final)
		conn->packet_id = 0;
}

static void
send_message(Conn *conn, int type, Buf *msg)
{
	send_packets(conn, type, msg, true);
}

static void
put_done(Conn *conn, Buf *b, unsigned status, uint64_t rows)
{
	put_u8(b, TOK_DONE);
	put_le(b, status, 2);
	put_le(b, 0xC1, 2);			/* current command: SELECT */
	put_le(b, rows, conn->version >= TDS72 ? 8 : 4);
}

static void
put_message_token(Conn *conn, Buf *b, int token, int number, int class, const char *text)
{
	Buf			t = {0};

	put_le(&t, number, 4);
	put_u8(&t, 1);				/* state */
	put_u8(&t, class);
	put_usvarchar(&t, text);
	put_bvarchar(&t, "medallion-tds");
	put_bvarchar(&t, "");
	put_le(&t, 1, conn->version >= TDS72 ? 4 : 2);
	put_u8(b, token);
	put_le(b, t.len, 2);
	put(b, t.data, t.len);
	free(t.data);
}

static void
put_envchange(Buf *b, int type, const char *newval, const char *oldval)
{
	Buf			t = {0};

	put_u8(&t, type);
	put_bvarchar(&t, newval);
	put_bvarchar(&t, oldval);
	put_u8(b, TOK_ENVCHANGE);
	put_le(b, t.len, 2);
	put(b, t.data, t.len);
	free(t.data);
}

static void
logf_batch(const char *fmt,...)
{
	FILE	   *f;
	va_list		ap;

	if (opt_log == NULL || (f = fopen(opt_log, "a")) == NULL)
		return;
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fputc('\n', f);
	fclose(f);
}

/* ----------------------------------------------------------------
 * PRELOGIN and LOGIN7
 * ---------------------------------------------------------------- */

static void
handle_prelogin(Conn *conn)
{
	Buf			b = {0};
	/* VERSION, ENCRYPTION, INSTOPT, THREADID, MARS; data after 26 bytes */
	static const unsigned char table[] = {
		0x00, 0x00, 0x1A, 0x00, 0x06,
		0x01, 0x00, 0x20, 0x00, 0x01,
		0x02, 0x00, 0x21, 0x00, 0x01,
		0x03, 0x00, 0x22, 0x00, 0x00,
		0x04, 0x00, 0x22, 0x00, 0x01,
		0xFF
	};
	static const unsigned char data[] = {
		0x10, 0x00, 0x07, 0xD0, 0x00, 0x00,	/* 16.0.2000 */
		0x02,					/* encryption not supported: no TLS */
		0x00,					/* instance */
		0x00					/* no MARS */
	};

	put(&b, table, sizeof(table));
	put(&b, data, sizeof(data));
	send_message(conn, PKT_REPLY, &b);
	free(b.data);
}

/* A LOGIN7 string field: offset and length (characters) at pos. */
static char *
login_field(Buf *m, size_t pos)
{
	size_t		off,
				len;

	if (pos + 4 > m->len)
		return strdup("");
	off = m->data[pos] | (m->data[pos + 1] << 8);
	len = m->data[pos + 2] | (m->data[pos + 3] << 8);
	if (off + 2 * len > m->len)
		return strdup("");
	return ucs2_to_utf8(m->data + off, len);
}

static bool
handle_login7(Conn *conn, Buf *m)
{
	Buf			b = {0};
	uint32_t	client;
	char	   *user,
			   *password,
			   *database;
	size_t		off,
				len;

	if (m->len < 94)
		return false;
	client = m->data[4] | (m->data[5] << 8) | (m->data[6] << 16) | ((uint32_t) m->data[7] << 24);
	conn->version = client >= TDS74 ? TDS74 : client >= TDS73 ? TDS73 : client >= TDS72 ? TDS72 : client;
	conn->packet_size = m->data[8] | (m->data[9] << 8) | (m->data[10] << 16);
	if (conn->packet_size < 512 || conn->packet_size > 32767)
		conn->packet_size = 4096;
	user = login_field(m, 40);
	database = login_field(m, 68);
	/* the password: each byte has its nibbles swapped and is xor-ed with 0xA5 */
	off = m->data[44] | (m->data[45] << 8);
	len = m->data[46] | (m->data[47] << 8);
	if (off + 2 * len > m->len)
		return false;
	for (size_t i = 0; i < 2 * len; i++)
	{
		unsigned	x = m->data[off + i] ^ 0xA5;

		m->data[off + i] = ((x << 4) | (x >> 4)) & 0xFF;
	}
	password = ucs2_to_utf8(m->data + off, len);
	logf_batch("-- login %s database %s tds %08x", user, database, client);

	if (strcmp(user, opt_user) != 0 || strcmp(password, opt_password) != 0)
	{
		char		msg[300];

		snprintf(msg, sizeof(msg), "Login failed for user '%s'.", user);
		put_message_token(conn, &b, TOK_ERROR, 18456, 14, msg);
		put_done(conn, &b, DONE_ERROR, 0);
		send_message(conn, PKT_REPLY, &b);
		free(b.data);
		return false;
	}
	put_envchange(&b, 1, database[0] ? database : "master", "master");
	put_message_token(conn, &b, TOK_INFO, 5701, 0, "Changed database context.");
	{
		Buf			t = {0};

		put_u8(&t, 1);			/* SQL interface */
		put_be16(&t, conn->version >> 16);
		put_be16(&t, conn->version & 0xFFFF);
		put_bvarchar(&t, "Microsoft SQL Server");
		put_u8(&t, 16);
		put_u8(&t, 0);
		put_u8(&t, 0x07);
		put_u8(&t, 0xD0);
		put_u8(&b, TOK_LOGINACK);
		put_le(&b, t.len, 2);
		put(&b, t.data, t.len);
		free(t.data);
	}
	{
		char		size[16];

		snprintf(size, sizeof(size), "%d", conn->packet_size);
		put_envchange(&b, 4, size, "4096");
	}
	put_done(conn, &b, 0, 0);
	send_message(conn, PKT_REPLY, &b);
	free(b.data);
	free(user);
	free(password);
	free(database);
	return true;
}

/* ----------------------------------------------------------------
 * Column types
 * ---------------------------------------------------------------- */

typedef enum Kind
{
	K_INT, K_BIT, K_FLOAT, K_DECIMAL, K_MONEY, K_DATETIME, K_DATE, K_TIME,
	K_DATETIME2, K_GUID, K_NVARCHAR, K_VARCHAR, K_VARBINARY
} Kind;

typedef struct ColType
{
	Kind		kind;
	int			size;			/* bytes (int, float, money, datetime) or max length */
	int			precision;
	int			scale;
	const char *name;			/* the base type name, lower case */
} ColType;

/* Map a declared SQL Server type ("numeric(10,2)", "nvarchar(max)") to a ColType. */
static ColType
parse_type(const char *decl)
{
	ColType		t = {K_NVARCHAR, 4000, 0, 0, "nvarchar"};
	char		base[32] = "";
	int			a = -1,
				b = -1;
	size_t		i = 0;

	if (decl == NULL)
		return t;
	while (decl[i] && (isalnum((unsigned char) decl[i]) || decl[i] == '_') && i < sizeof(base) - 1)
	{
		base[i] = tolower((unsigned char) decl[i]);
		i++;
	}
	base[i] = '\0';
	if (decl[i] == '(')
	{
		if (strncasecmp(decl + i + 1, "max", 3) == 0)
			a = 0;
		else
			sscanf(decl + i + 1, "%d , %d", &a, &b);
	}
#define IS(x) (strcmp(base, x) == 0)
	if (IS("int") || IS("integer"))
		t = (ColType) {K_INT, 4, 10, 0, "int"};
	else if (IS("bigint"))
		t = (ColType) {K_INT, 8, 19, 0, "bigint"};
	else if (IS("smallint"))
		t = (ColType) {K_INT, 2, 5, 0, "smallint"};
	else if (IS("tinyint"))
		t = (ColType) {K_INT, 1, 3, 0, "tinyint"};
	else if (IS("bit"))
		t = (ColType) {K_BIT, 1, 1, 0, "bit"};
	else if (IS("float"))
		t = (ColType) {K_FLOAT, 8, 53, 0, "float"};
	else if (IS("real"))
		t = (ColType) {K_FLOAT, 4, 24, 0, "real"};
	else if (IS("decimal") || IS("numeric"))
		t = (ColType) {K_DECIMAL, 0, a > 0 ? a : 18, b >= 0 ? b : 0, IS("decimal") ? "decimal" : "numeric"};
	else if (IS("money"))
		t = (ColType) {K_MONEY, 8, 19, 4, "money"};
	else if (IS("smallmoney"))
		t = (ColType) {K_MONEY, 4, 10, 4, "smallmoney"};
	else if (IS("datetime"))
		t = (ColType) {K_DATETIME, 8, 23, 3, "datetime"};
	else if (IS("smalldatetime"))
		t = (ColType) {K_DATETIME, 4, 16, 0, "smalldatetime"};
	else if (IS("date"))
		t = (ColType) {K_DATE, 3, 10, 0, "date"};
	else if (IS("time"))
		t = (ColType) {K_TIME, 0, 16, a >= 0 ? a : 7, "time"};
	else if (IS("datetime2"))
		t = (ColType) {K_DATETIME2, 0, 27, a >= 0 ? a : 7, "datetime2"};
	else if (IS("uniqueidentifier"))
		t = (ColType) {K_GUID, 16, 0, 0, "uniqueidentifier"};
	else if (IS("varchar") || IS("char"))
		t = (ColType) {K_VARCHAR, a > 0 ? a : a == 0 ? 8000 : 1, 0, 0, IS("varchar") ? "varchar" : "char"};
	else if (IS("nvarchar") || IS("nchar"))
		t = (ColType) {K_NVARCHAR, a > 0 ? a : a == 0 ? 4000 : 1, 0, 0, IS("nvarchar") ? "nvarchar" : "nchar"};
	else if (IS("varbinary") || IS("binary"))
		t = (ColType) {K_VARBINARY, a > 0 ? a : 8000, 0, 0, IS("varbinary") ? "varbinary" : "binary"};
#undef IS
	if ((t.kind == K_VARCHAR && t.size > 8000) || (t.kind == K_NVARCHAR && t.size > 4000))
		t.size = t.kind == K_VARCHAR ? 8000 : 4000;
	return t;
}

/* The type of an expression column, from its first value. */
static ColType
type_of_value(int sqltype)
{
	switch (sqltype)
	{
		case SQLITE_INTEGER:
		case SQLITE_NULL:
			return parse_type(sqltype == SQLITE_NULL ? "int" : "bigint");
		case SQLITE_FLOAT:
			return parse_type("float");
		case SQLITE_BLOB:
			return parse_type("varbinary(8000)");
		default:
			return parse_type("nvarchar(4000)");
	}
}

/* Types from 7.3 on are sent as ISO strings to older clients, as SQL Server does. */
static ColType
wire_type(Conn *conn, ColType t)
{
	if (conn->version < TDS73 && (t.kind == K_DATE || t.kind == K_TIME || t.kind == K_DATETIME2))
		return parse_type("nvarchar(40)");
	return t;
}

static void
put_type_info(Buf *b, ColType t)
{
	switch (t.kind)
	{
		case K_INT:
			put_u8(b, 0x26);
			put_u8(b, t.size);
			break;
		case K_BIT:
			put_u8(b, 0x68);
			put_u8(b, 1);
			break;
		case K_FLOAT:
			put_u8(b, 0x6D);
			put_u8(b, t.size);
			break;
		case K_DECIMAL:
			put_u8(b, strcmp(t.name, "decimal") == 0 ? 0x6A : 0x6C);
			put_u8(b, t.precision <= 9 ? 5 : t.precision <= 19 ? 9 : t.precision <= 28 ? 13 : 17);
			put_u8(b, t.precision);
			put_u8(b, t.scale);
			break;
		case K_MONEY:
			put_u8(b, 0x6E);
			put_u8(b, t.size);
			break;
		case K_DATETIME:
			put_u8(b, 0x6F);
			put_u8(b, t.size);
			break;
		case K_DATE:
			put_u8(b, 0x28);
			break;
		case K_TIME:
			put_u8(b, 0x29);
			put_u8(b, t.scale);
			break;
		case K_DATETIME2:
			put_u8(b, 0x2A);
			put_u8(b, t.scale);
			break;
		case K_GUID:
			put_u8(b, 0x24);
			put_u8(b, 16);
			break;
		case K_NVARCHAR:
			put_u8(b, 0xE7);
			put_le(b, t.size * 2, 2);
			put(b, collation, 5);
			break;
		case K_VARCHAR:
			put_u8(b, 0xA7);
			put_le(b, t.size, 2);
			put(b, collation, 5);
			break;
		case K_VARBINARY:
			put_u8(b, 0xA5);
			put_le(b, t.size, 2);
			break;
	}
}

/* ----------------------------------------------------------------
 * Values
 * ---------------------------------------------------------------- */

/* Days from 0001-01-01 to y-m-d (proleptic Gregorian). */
static int64_t
days_from_civil(int y, int m, int d)
{
	int64_t		era;
	int64_t		yoe,
				doy,
				doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	/* days since 1970-01-01, then shifted to 0001-01-01 */
	return era * 146097 + doe - 719468 + 719162;
}

/* Parse "YYYY-MM-DD[ HH:MM:SS[.fffffff]]" or "HH:MM:SS[.f]"; fraction in 1e-7 s. */
static bool
parse_datetime(const char *s, int64_t *days, int64_t *ticks7, bool time_only)
{
	int			y = 1,
				mo = 1,
				d = 1,
				h = 0,
				mi = 0,
				sec = 0;
	int64_t		frac = 0;
	const char *p = s;

	if (!time_only)
	{
		if (sscanf(p, "%d-%d-%d", &y, &mo, &d) != 3)
			return false;
		p = strpbrk(p, " T");
		if (p)
			p++;
	}
	if (p && *p && sscanf(p, "%d:%d:%d", &h, &mi, &sec) >= 2)
	{
		const char *dot = strchr(p, '.');

		if (dot)
		{
			int			digits = 0;

			for (dot++; isdigit((unsigned char) *dot) && digits < 7; dot++, digits++)
				frac = frac * 10 + (*dot - '0');
			for (; digits < 7; digits++)
				frac *= 10;
		}
	}
	*days = days_from_civil(y, mo, d);
	*ticks7 = ((int64_t) h * 3600 + mi * 60 + sec) * 10000000 + frac;
	return true;
}

/* Parse a decimal string into a magnitude scaled by 10^scale, rounding half up. */
static bool
parse_decimal(const char *s, int scale, unsigned __int128 *mag, bool *negative)
{
	unsigned __int128 v = 0;
	int			frac = -1;
	bool		round_up = false;

	while (isspace((unsigned char) *s))
		s++;
	*negative = *s == '-';
	if (*s == '-' || *s == '+')
		s++;
	for (; *s; s++)
	{
		if (*s == '.')
		{
			frac = 0;
			continue;
		}
		if (!isdigit((unsigned char) *s))
			break;
		if (frac >= scale)
		{
			if (frac == scale)
				round_up = *s >= '5';
			frac++;
			continue;
		}
		v = v * 10 + (*s - '0');
		if (frac >= 0)
			frac++;
	}
	for (int i = frac < 0 ? 0 : frac; i < scale; i++)
		v *= 10;
	if (round_up)
		v++;
	*mag = v;
	return true;
}

static int
hexval(int c)
{
	return isdigit(c) ? c - '0' : tolower(c) - 'a' + 10;
}

/* One value of a ROW token. */
static void
put_value(Buf *b, ColType t, sqlite3_stmt *stmt, int col)
{
	int			sqltype = sqlite3_column_type(stmt, col);
	const char *text = sqltype == SQLITE_NULL ? NULL : (const char *) sqlite3_column_text(stmt, col);
	int64_t		days,
				ticks;
	char		numtext[64];

	/* SQLite keeps numbers that fit a double as REAL: print them at the scale */
	if ((t.kind == K_DECIMAL || t.kind == K_MONEY) && sqltype == SQLITE_FLOAT)
	{
		snprintf(numtext, sizeof(numtext), "%.*f", t.scale, sqlite3_column_double(stmt, col));
		text = numtext;
	}
	if (text == NULL)
	{
		if (t.kind == K_NVARCHAR || t.kind == K_VARCHAR || t.kind == K_VARBINARY)
			put_le(b, 0xFFFF, 2);
		else
			put_u8(b, 0);
		return;
	}
	switch (t.kind)
	{
		case K_INT:
			put_u8(b, t.size);
			put_le(b, (uint64_t) sqlite3_column_int64(stmt, col), t.size);
			break;
		case K_BIT:
			put_u8(b, 1);
			put_u8(b, sqlite3_column_int64(stmt, col) != 0);
			break;
		case K_FLOAT:
			put_u8(b, t.size);
			if (t.size == 4)
			{
				float		f = (float) sqlite3_column_double(stmt, col);
				uint32_t	u;

				memcpy(&u, &f, 4);
				put_le(b, u, 4);
			}
			else
			{
				double		d = sqlite3_column_double(stmt, col);
				uint64_t	u;

				memcpy(&u, &d, 8);
				put_le(b, u, 8);
			}
			break;
		case K_DECIMAL:
			{
				unsigned __int128 mag;
				bool		negative;
				int			len = t.precision <= 9 ? 5 : t.precision <= 19 ? 9 : t.precision <= 28 ? 13 : 17;

				parse_decimal(text, t.scale, &mag, &negative);
				put_u8(b, len);
				put_u8(b, negative ? 0 : 1);
				for (int i = 0; i < len - 1; i++)
					put_u8(b, i < 16 ? (unsigned) (mag >> (8 * i)) & 0xFF : 0);
				break;
			}
		case K_MONEY:
			{
				unsigned __int128 mag;
				bool		negative;
				int64_t		v;

				parse_decimal(text, 4, &mag, &negative);
				v = negative ? -(int64_t) mag : (int64_t) mag;
				put_u8(b, t.size);
				if (t.size == 4)
					put_le(b, (uint32_t) (int32_t) v, 4);
				else
				{
					put_le(b, (uint32_t) (v >> 32), 4);
					put_le(b, (uint32_t) v, 4);
				}
				break;
			}
		case K_DATETIME:
			if (!parse_datetime(text, &days, &ticks, false))
				days = ticks = 0;
			days -= days_from_civil(1900, 1, 1);
			if (t.size == 4)
			{
				put_u8(b, 4);
				put_le(b, days, 2);
				put_le(b, ticks / 600000000, 2);
			}
			else
			{
				put_u8(b, 8);
				put_le(b, (uint32_t) (int32_t) days, 4);
				put_le(b, (ticks * 3 + 50000) / 100000, 4);	/* 1/300 s */
			}
			break;
		case K_DATE:
		case K_TIME:
		case K_DATETIME2:
			{
				int			tbytes = t.scale <= 2 ? 3 : t.scale <= 4 ? 4 : 5;
				int64_t		units = 0;

				if (!parse_datetime(text, &days, &ticks, t.kind == K_TIME))
					days = ticks = 0;
				units = ticks;
				for (int i = 7; i > t.scale; i--)
					units /= 10;
				put_u8(b, t.kind == K_DATE ? 3 : t.kind == K_TIME ? tbytes : tbytes + 3);
				if (t.kind != K_DATE)
					put_le(b, (uint64_t) units, tbytes);
				if (t.kind != K_TIME)
					put_le(b, (uint64_t) days, 3);
				break;
			}
		case K_GUID:
			{
				unsigned char g[16];
				int			n = 0;
				static const int order[16] = {3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15};

				for (const char *p = text; *p && n < 16; p++)
				{
					if (isxdigit((unsigned char) p[0]) && isxdigit((unsigned char) p[1]))
					{
						g[n++] = hexval(p[0]) * 16 + hexval(p[1]);
						p++;
					}
				}
				put_u8(b, 16);
				for (int i = 0; i < 16; i++)
					put_u8(b, i < n ? g[order[i]] : 0);
				break;
			}
		case K_NVARCHAR:
			{
				Buf			tmp = {0};

				put_ucs2(&tmp, text);
				if (tmp.len > (size_t) t.size * 2)
					tmp.len = t.size * 2;
				put_le(b, tmp.len, 2);
				put(b, tmp.data, tmp.len);
				free(tmp.data);
				break;
			}
		case K_VARCHAR:
			{
				/* code page 1252: Latin-1 plus '?' for the rest */
				Buf			tmp = {0};
				const unsigned char *s = (const unsigned char *) text;

				while (*s)
				{
					uint32_t	c = utf8_next(&s);

					put_u8(&tmp, c < 0x100 ? c : '?');
				}
				if (tmp.len > (size_t) t.size)
					tmp.len = t.size;
				put_le(b, tmp.len, 2);
				put(b, tmp.data, tmp.len);
				free(tmp.data);
				break;
			}
		case K_VARBINARY:
			if (sqltype == SQLITE_BLOB)
			{
				int			n = sqlite3_column_bytes(stmt, col);

				put_le(b, n, 2);
				put(b, sqlite3_column_blob(stmt, col), n);
			}
			else
			{
				const char *p = strncasecmp(text, "0x", 2) == 0 ? text + 2 : text;
				size_t		n = strlen(p) / 2;

				put_le(b, n, 2);
				for (size_t i = 0; i < n; i++)
					put_u8(b, hexval(p[2 * i]) * 16 + hexval(p[2 * i + 1]));
			}
			break;
	}
}

/* ----------------------------------------------------------------
 * Batches
 * ---------------------------------------------------------------- */

static void
send_error(Conn *conn, int number, const char *text)
{
	Buf			b = {0};

	put_message_token(conn, &b, TOK_ERROR, number, 16, text);
	put_done(conn, &b, DONE_ERROR, 0);
	send_message(conn, PKT_REPLY, &b);
	free(b.data);
}

/*
 * Should this batch be answered by dropping the connection?  The fail file
 * holds "N [K]": let K more reading batches through, then fail N.
 */
static bool
should_fail(void)
{
	FILE	   *f;
	int			n = 0,
				k = 0;
	bool		fail;

	if (opt_fail_file == NULL || (f = fopen(opt_fail_file, "r+")) == NULL)
		return false;
	if (fscanf(f, "%d %d", &n, &k) < 1 || n <= 0)
	{
		fclose(f);
		return false;
	}
	fail = k <= 0;
	if (fail)
		n--;
	else
		k--;
	rewind(f);
	fprintf(f, "%d %d          \n", n, k);
	fclose(f);
	return fail;
}

/*
 * T-SQL to SQLite: @@version, and CAST('literal' AS <date/time type>),
 * which SQLite would turn into a number, becomes the literal.
 */
static char *
rewrite_sql(const char *sql)
{
	Buf			out = {0};
	const char *p = sql;

	while (*p)
	{
		if (strncasecmp(p, "@@version", 9) == 0)
		{
			const char *v = "'Microsoft SQL Server 2019 (medallion test server)'";

			put(&out, v, strlen(v));
			p += 9;
			continue;
		}
		if (strncasecmp(p, "CAST(", 5) == 0 || strncasecmp(p, "CAST (", 6) == 0)
		{
			const char *q = p + (p[4] == '(' ? 5 : 6);
			const char *end;

			while (*q == ' ' || *q == '(')
				q++;
			if (*q == '\'' && (end = strchr(q + 1, '\'')) != NULL)
			{
				const char *as = end + 1;

				while (*as == ' ' || *as == ')')
					as++;
				if (strncasecmp(as, "AS ", 3) == 0)
				{
					const char *type = as + 3;

					while (*type == ' ')
						type++;
					if (strncasecmp(type, "date", 4) == 0 || strncasecmp(type, "time", 4) == 0 ||
						strncasecmp(type, "smalldatetime", 13) == 0)
					{
						const char *close = strchr(type, ')');

						if (close != NULL)
						{
							put(&out, q, end - q + 1);
							p = close + 1;
							continue;
						}
					}
				}
			}
		}
		put(&out, p, 1);
		p++;
	}
	put_u8(&out, 0);
	return (char *) out.data;
}

/* Run one statement of a batch and append its reply tokens to b. */
static bool
run_statement(Conn *conn, Buf *b, sqlite3_stmt *stmt, bool more)
{
	int			ncols = sqlite3_column_count(stmt);
	int			rc = sqlite3_step(stmt);
	ColType    *types;
	uint64_t	rows = 0;

	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return false;
	if (ncols == 0)
	{
		put_done(conn, b, (more ? DONE_MORE : 0) | DONE_COUNT, sqlite3_changes(conn->db));
		return true;
	}
	types = calloc(ncols, sizeof(ColType));
	put_u8(b, TOK_COLMETADATA);
	put_le(b, ncols, 2);
	for (int i = 0; i < ncols; i++)
	{
		const char *decl = sqlite3_column_decltype(stmt, i);
		const char *name = sqlite3_column_name(stmt, i);

		types[i] = wire_type(conn, decl ? parse_type(decl) :
							 type_of_value(rc == SQLITE_ROW ? sqlite3_column_type(stmt, i) : SQLITE_NULL));
		put_le(b, 0, conn->version >= TDS72 ? 4 : 2);	/* user type */
		put_le(b, 0x0001, 2);	/* nullable */
		put_type_info(b, types[i]);
		/* an expression such as NULL has no name on SQL Server */
		put_bvarchar(b, strcasecmp(name, "NULL") == 0 ? "" : name);
	}
	while (rc == SQLITE_ROW)
	{
		put_u8(b, TOK_ROW);
		for (int i = 0; i < ncols; i++)
			put_value(b, types[i], stmt, i);
		rows++;
		if (b->len > 1 << 16)
			send_packets(conn, PKT_REPLY, b, false);	/* stream big results */
		rc = sqlite3_step(stmt);
	}
	free(types);
	if (rc != SQLITE_DONE)
		return false;
	put_done(conn, b, (more ? DONE_MORE : 0) | DONE_COUNT, rows);
	return true;
}

/* SET SHOWPLAN_ALL ON: a SELECT returns one plan row with its row count. */
static void
send_plan(Conn *conn, const char *sql)
{
	Buf			b = {0};
	sqlite3_stmt *stmt;
	char	   *count = sqlite3_mprintf("SELECT 0 AS Parent, CAST(count(*) AS REAL) AS EstimateRows FROM (%s)", sql);

	if (sqlite3_prepare_v2(conn->db, count, -1, &stmt, NULL) != SQLITE_OK)
	{
		send_error(conn, 102, sqlite3_errmsg(conn->db));
		sqlite3_free(count);
		return;
	}
	if (!run_statement(conn, &b, stmt, false))
	{
		b.len = 0;
		put_message_token(conn, &b, TOK_ERROR, 102, 16, sqlite3_errmsg(conn->db));
		put_done(conn, &b, DONE_ERROR, 0);
	}
	sqlite3_finalize(stmt);
	sqlite3_free(count);
	send_message(conn, PKT_REPLY, &b);
	free(b.data);
}

static void
handle_batch(Conn *conn, Buf *m)
{
	size_t		start = 0;
	char	   *raw,
			   *sql,
			   *s;
	const char *tail;
	Buf			b = {0};

	if (conn->version >= TDS72 && m->len >= 4)
		start = m->data[0] | (m->data[1] << 8) | (m->data[2] << 16);	/* ALL_HEADERS */
	if (start > m->len)
		start = m->len;
	raw = ucs2_to_utf8(m->data + start, (m->len - start) / 2);
	logf_batch("%s", raw);
	for (s = raw; isspace((unsigned char) *s); s++)
		;

	/* SET options: SHOWPLAN_ALL is remembered, the rest accepted */
	if (strncasecmp(s, "set ", 4) == 0)
	{
		if (strcasestr(s, "showplan_all"))
			conn->showplan = strcasestr(s, " on") != NULL;
		put_done(conn, &b, 0, 0);
		send_message(conn, PKT_REPLY, &b);
		free(b.data);
		free(raw);
		return;
	}
	if (strncasecmp(s, "select", 6) == 0 && should_fail())
	{
		logf_batch("-- dropping the connection (fail file)");
		exit(0);
	}
	sql = rewrite_sql(s);
	if (conn->showplan && strncasecmp(sql, "select", 6) == 0)
	{
		send_plan(conn, sql);
		free(sql);
		free(raw);
		return;
	}

	tail = sql;
	while (tail && *tail)
	{
		sqlite3_stmt *stmt = NULL;
		const char *next;

		if (sqlite3_prepare_v2(conn->db, tail, -1, &stmt, &next) != SQLITE_OK)
		{
			b.len = 0;
			put_message_token(conn, &b, TOK_ERROR, 102, 15, sqlite3_errmsg(conn->db));
			put_done(conn, &b, DONE_ERROR, 0);
			break;
		}
		if (stmt == NULL)
			break;				/* only whitespace or comments left */
		while (*next && isspace((unsigned char) *next))
			next++;
		if (!run_statement(conn, &b, stmt, *next != '\0'))
		{
			put_message_token(conn, &b, TOK_ERROR, 50000, 16, sqlite3_errmsg(conn->db));
			put_done(conn, &b, DONE_ERROR, 0);
			sqlite3_finalize(stmt);
			break;
		}
		sqlite3_finalize(stmt);
		tail = next;
	}
	if (b.len == 0)
		put_done(conn, &b, 0, 0);
	send_message(conn, PKT_REPLY, &b);
	free(b.data);
	free(sql);
	free(raw);
}

/* ----------------------------------------------------------------
 * The database: schemas as attached files, INFORMATION_SCHEMA derived
 * ---------------------------------------------------------------- */

/* CHARINDEX(needle, haystack): 1-based position, 0 when absent */
static void
fn_charindex(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const char *needle = (const char *) sqlite3_value_text(argv[0]);
	const char *hay = (const char *) sqlite3_value_text(argv[1]);
	const char *found = needle && hay ? strstr(hay, needle) : NULL;

	(void) argc;
	sqlite3_result_int(ctx, found ? (int) (found - hay) + 1 : 0);
}

static void
exec_or_die(sqlite3 *db, const char *sql)
{
	char	   *err = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
		die("%s\nin: %.200s", err, sql);
}

static void
attach_schema(sqlite3 *db, const char *schema)
{
	char	   *sql = sqlite3_mprintf("ATTACH %Q AS %Q", sqlite3_mprintf("%s/%s.db", opt_dir, schema), schema);

	exec_or_die(db, sql);
	sqlite3_free(sql);
}

/* Fill INFORMATION_SCHEMA (an in-memory database) from the attached schemas. */
static void
build_information_schema(sqlite3 *db)
{
	sqlite3_stmt *schemas,
			   *tables;

	exec_or_die(db,
				"ATTACH ':memory:' AS INFORMATION_SCHEMA;"
				"CREATE TABLE INFORMATION_SCHEMA.SCHEMATA (catalog_name nvarchar(128), schema_name nvarchar(128));"
				"CREATE TABLE INFORMATION_SCHEMA.TABLES (table_catalog nvarchar(128), table_schema nvarchar(128),"
				"  table_name nvarchar(128), table_type varchar(10));"
				"CREATE TABLE INFORMATION_SCHEMA.COLUMNS (table_catalog nvarchar(128), table_schema nvarchar(128),"
				"  table_name nvarchar(128), column_name nvarchar(128), ordinal_position int,"
				"  column_default nvarchar(4000), is_nullable varchar(3), data_type nvarchar(128),"
				"  character_maximum_length int, numeric_precision tinyint, numeric_precision_radix smallint,"
				"  numeric_scale int, datetime_precision smallint)");
	if (sqlite3_prepare_v2(db, "SELECT name FROM pragma_database_list WHERE name NOT IN ('main', 'temp', 'INFORMATION_SCHEMA')",
						   -1, &schemas, NULL) != SQLITE_OK)
		die("%s", sqlite3_errmsg(db));
	while (sqlite3_step(schemas) == SQLITE_ROW)
	{
		const char *schema = (const char *) sqlite3_column_text(schemas, 0);
		char	   *q = sqlite3_mprintf("SELECT name, type FROM %Q.sqlite_master WHERE type IN ('table', 'view') ORDER BY name", schema);
		char	   *ins = sqlite3_mprintf("INSERT INTO INFORMATION_SCHEMA.SCHEMATA VALUES ('medallion', %Q)", schema);

		exec_or_die(db, ins);
		sqlite3_free(ins);
		if (sqlite3_prepare_v2(db, q, -1, &tables, NULL) != SQLITE_OK)
			die("%s", sqlite3_errmsg(db));
		while (sqlite3_step(tables) == SQLITE_ROW)
		{
			const char *table = (const char *) sqlite3_column_text(tables, 0);
			const char *kind = (const char *) sqlite3_column_text(tables, 1);
			sqlite3_stmt *cols;
			char	   *cq = sqlite3_mprintf("SELECT cid, name, type, \"notnull\", dflt_value FROM pragma_table_info(%Q, %Q)", table, schema);

			ins = sqlite3_mprintf("INSERT INTO INFORMATION_SCHEMA.TABLES VALUES ('medallion', %Q, %Q, %Q)",
								  schema, table, strcmp(kind, "view") == 0 ? "VIEW" : "BASE TABLE");
			exec_or_die(db, ins);
			sqlite3_free(ins);
			if (sqlite3_prepare_v2(db, cq, -1, &cols, NULL) != SQLITE_OK)
				die("%s", sqlite3_errmsg(db));
			while (sqlite3_step(cols) == SQLITE_ROW)
			{
				ColType		t = parse_type((const char *) sqlite3_column_text(cols, 2));
				const char *decl = (const char *) sqlite3_column_text(cols, 2);
				bool		maxlen = decl && strcasestr(decl, "(max)") != NULL;
				char		charlen[16] = "NULL",
							prec[16] = "NULL",
							radix[16] = "NULL",
							scale[16] = "NULL",
							dtprec[16] = "NULL";

				if (t.kind == K_NVARCHAR || t.kind == K_VARCHAR || t.kind == K_VARBINARY)
					snprintf(charlen, sizeof(charlen), "%d", maxlen ? -1 : t.size);
				else if (t.kind == K_INT || t.kind == K_DECIMAL || t.kind == K_MONEY || t.kind == K_FLOAT)
				{
					snprintf(prec, sizeof(prec), "%d", t.precision);
					snprintf(radix, sizeof(radix), "%d", t.kind == K_FLOAT ? 2 : 10);
					if (t.kind != K_FLOAT)
						snprintf(scale, sizeof(scale), "%d", t.scale);
				}
				else if (t.kind == K_DATETIME || t.kind == K_DATE || t.kind == K_TIME || t.kind == K_DATETIME2)
					snprintf(dtprec, sizeof(dtprec), "%d", t.scale);
				ins = sqlite3_mprintf("INSERT INTO INFORMATION_SCHEMA.COLUMNS VALUES ('medallion', %Q, %Q, %Q, %d, %Q, %Q, %Q, %s, %s, %s, %s, %s)",
									  schema, table, sqlite3_column_text(cols, 1),
									  sqlite3_column_int(cols, 0) + 1, sqlite3_column_text(cols, 4),
									  sqlite3_column_int(cols, 3) ? "NO" : "YES", t.name,
									  charlen, prec, radix, scale, dtprec);
				exec_or_die(db, ins);
				sqlite3_free(ins);
			}
			sqlite3_finalize(cols);
			sqlite3_free(cq);
		}
		sqlite3_finalize(tables);
		sqlite3_free(q);
	}
	sqlite3_finalize(schemas);
}

/* Open the database of one connection: every DIR/<schema>.db attached. */
static sqlite3 *
open_database(void)
{
	sqlite3    *db;
	DIR		   *dir;
	struct dirent *e;

	if (sqlite3_open(":memory:", &db) != SQLITE_OK)
		die("cannot open SQLite");
	sqlite3_busy_timeout(db, 10000);
	sqlite3_create_function(db, "charindex", 2, SQLITE_UTF8, NULL, fn_charindex, NULL, NULL);
	if ((dir = opendir(opt_dir)) == NULL)
		die("cannot open %s: %s", opt_dir, strerror(errno));
	while ((e = readdir(dir)) != NULL)
	{
		size_t		n = strlen(e->d_name);

		if (n > 3 && strcmp(e->d_name + n - 3, ".db") == 0)
		{
			char	   *schema = strndup(e->d_name, n - 3);

			attach_schema(db, schema);
			free(schema);
		}
	}
	closedir(dir);
	build_information_schema(db);
	return db;
}

/* Load the fixture: attach a file per schema named in CREATE TABLE, run it. */
static void
load_fixture(const char *path)
{
	FILE	   *f = fopen(path, "r");
	Buf			text = {0};
	char		chunk[65536];
	size_t		n;
	sqlite3    *db;
	const char *p;

	if (f == NULL)
		die("cannot read %s: %s", path, strerror(errno));
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		put(&text, chunk, n);
	fclose(f);
	put_u8(&text, 0);
	mkdir(opt_dir, 0700);
	if (sqlite3_open(":memory:", &db) != SQLITE_OK)
		die("cannot open SQLite");
	for (p = (const char *) text.data; (p = strcasestr(p, "CREATE TABLE ")) != NULL;)
	{
		char		schema[129];

		p += 13;
		if (sscanf(p, "%128[A-Za-z0-9_]", schema) == 1 && p[strlen(schema)] == '.')
		{
			char	   *file = sqlite3_mprintf("%s/%s.db", opt_dir, schema);
			char	   *check = sqlite3_mprintf("SELECT 1 FROM pragma_database_list WHERE name = %Q", schema);
			sqlite3_stmt *stmt;

			sqlite3_prepare_v2(db, check, -1, &stmt, NULL);
			if (sqlite3_step(stmt) != SQLITE_ROW)
			{
				unlink(file);
				attach_schema(db, schema);
			}
			sqlite3_finalize(stmt);
			sqlite3_free(check);
			sqlite3_free(file);
		}
	}
	exec_or_die(db, (const char *) text.data);
	sqlite3_close(db);
	free(text.data);
}

/* Serve one client until it disconnects. */
static void
serve(int fd)
{
	Conn		conn = {fd, TDS74, 4096, NULL, false, 0};
	Buf			m = {0};
	int			type;
	bool		logged_in = false;

	while (read_message(&conn, &type, &m))
	{
		switch (type)
		{
			case PKT_PRELOGIN:
				handle_prelogin(&conn);
				break;
			case PKT_LOGIN7:
				if (!handle_login7(&conn, &m))
					return;
				logged_in = true;
				conn.db = open_database();
				break;
			case PKT_BATCH:
				if (!logged_in)
					return;
				handle_batch(&conn, &m);
				break;
			case PKT_ATTENTION:
				{
					Buf			b = {0};

					put_done(&conn, &b, DONE_ATTN, 0);
					send_message(&conn, PKT_REPLY, &b);
					free(b.data);
					break;
				}
			default:
				send_error(&conn, 50000, "unsupported request");
				break;
		}
	}
}

int
main(int argc, char **argv)
{
	const char *fixture = NULL;
	const char *port_file = NULL;
	int			port = 0;
	int			listener;
	struct sockaddr_in addr;
	socklen_t	addrlen = sizeof(addr);
	int			one = 1;

	for (int i = 1; i < argc; i++)
	{
		const char *arg = argv[i];
		const char *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (val == NULL)
			die("%s needs a value", arg);
		if (strcmp(arg, "--dir") == 0)
			opt_dir = val;
		else if (strcmp(arg, "--fixture") == 0)
			fixture = val;
		else if (strcmp(arg, "--port") == 0)
			port = atoi(val);
		else if (strcmp(arg, "--port-file") == 0)
			port_file = val;
		else if (strcmp(arg, "--user") == 0)
			opt_user = val;
		else if (strcmp(arg, "--password") == 0)
			opt_password = val;
		else if (strcmp(arg, "--log") == 0)
			opt_log = val;
		else if (strcmp(arg, "--fail-file") == 0)
			opt_fail_file = val;
		else
			die("unknown option %s", arg);
		i++;
	}
	if (opt_dir == NULL)
		die("usage: tds_server --dir DIR [--fixture FILE] [--port N] [--port-file FILE] [--user U] [--password P] [--log FILE] [--fail-file FILE]");
	if (fixture)
		load_fixture(fixture);

	listener = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	addr.sin_port = htons(port);
	if (bind(listener, (struct sockaddr *) &addr, sizeof(addr)) != 0 || listen(listener, 64) != 0)
		die("cannot listen on port %d: %s", port, strerror(errno));
	getsockname(listener, (struct sockaddr *) &addr, &addrlen);
	port = ntohs(addr.sin_port);
	if (port_file)
	{
		char		tmp[4096];
		FILE	   *f;

		snprintf(tmp, sizeof(tmp), "%s.tmp", port_file);
		if ((f = fopen(tmp, "w")) == NULL)
			die("cannot write %s", tmp);
		fprintf(f, "%d\n", port);
		fclose(f);
		rename(tmp, port_file);
	}
	printf("%d\n", port);
	fflush(stdout);
	signal(SIGCHLD, SIG_IGN);	/* children are reaped by the kernel */

	for (;;)
	{
		int			fd = accept(listener, NULL, NULL);

		if (fd < 0)
		{
			if (errno == EINTR)
				continue;
			die("accept: %s", strerror(errno));
		}
		if (fork() == 0)
		{
			close(listener);
			serve(fd);
			exit(0);
		}
		close(fd);
	}
}
