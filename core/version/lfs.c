/*
 * lfs.c — the git-lfs pointer file format (spec v1), written and parsed.
 *
 * A FOLIO_ENTRY_LFS file is stored in git as exactly
 *
 *   version https://git-lfs.github.com/spec/v1\n
 *   oid sha256:<64 lowercase hex>\n
 *   size <decimal, no sign, no leading zeros>\n
 *
 * which is the canonical form git-lfs itself writes, so `git lfs pointer
 * --check` accepts it and git-lfs tools see our files as LFS objects.
 *
 * The parser is deliberately strict: it accepts only that canonical form
 * (no extension keys, no older "hawser" version line, no CRLF, no uppercase
 * hex, nothing after the last newline). Anything else is a plain blob. A
 * lenient parser would make two different blobs mean the same file, and
 * then the git blob id would no longer identify the content; being strict
 * keeps "pointer text <-> (oid, size)" a bijection.
 *
 * Nothing here touches libgit2; the bytes come from the caller.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "folio/error.h"
#include "folio/version.h"
#include "version/version_int.h"

static const char VERSION_LINE[] = "version https://git-lfs.github.com/spec/v1\n";
static const char OID_PREFIX[] = "oid sha256:";
static const char SIZE_PREFIX[] = "size ";

size_t folio_lfs_pointer(char *buf, const folio_oid *oid, uint64_t size)
{
	char hex[FOLIO_OID_HEXSZ + 1];

	folio_oid_tohex(hex, oid);
	/* 43 + 11 + 64 + 1 + 5 + 20 + 1 = 145 bytes at most, well under 200. */
	int n = snprintf(buf, 200, "%s%s%s\n%s%" PRIu64 "\n",
			 VERSION_LINE, OID_PREFIX, hex, SIZE_PREFIX, size);
	return n < 0 ? 0 : (size_t)n;
}


static int lowerhex(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Returns NULL and fills oid/size, or why buf is not a pointer. */
const char *version_lfs_parse_quiet(folio_oid *oid, uint64_t *size,
				    const void *buf, size_t len)
{
	const char *p = buf;
	const char *end = p + len;
	folio_oid id;
	uint64_t n = 0;

	if (len >= LFS_POINTER_MAX)
		return "1024 bytes or longer";
	if (len < sizeof VERSION_LINE - 1 ||
	    memcmp(p, VERSION_LINE, sizeof VERSION_LINE - 1) != 0)
		return "the first line is not 'version https://git-lfs.github.com/spec/v1'";
	p += sizeof VERSION_LINE - 1;

	if ((size_t)(end - p) < sizeof OID_PREFIX - 1 ||
	    memcmp(p, OID_PREFIX, sizeof OID_PREFIX - 1) != 0)
		return "the second line does not start with 'oid sha256:'";
	p += sizeof OID_PREFIX - 1;
	if (end - p < FOLIO_OID_HEXSZ + 1)
		return "the oid is shorter than 64 hex digits";
	for (size_t i = 0; i < FOLIO_OID_RAWSZ; i++) {
		int hi = lowerhex((unsigned char)p[2 * i]);
		int lo = lowerhex((unsigned char)p[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return "the oid is not 64 lowercase hex digits";
		id.id[i] = (unsigned char)(hi << 4 | lo);
	}
	p += FOLIO_OID_HEXSZ;
	if (*p++ != '\n')
		return "the oid line does not end after 64 hex digits";

	if ((size_t)(end - p) < sizeof SIZE_PREFIX - 1 ||
	    memcmp(p, SIZE_PREFIX, sizeof SIZE_PREFIX - 1) != 0)
		return "the third line does not start with 'size '";
	p += sizeof SIZE_PREFIX - 1;
	const char *digits = p;
	while (p < end && *p >= '0' && *p <= '9') {
		unsigned d = (unsigned)(*p - '0');
		/* git-lfs keeps sizes in an int64. */
		if (n > ((uint64_t)INT64_MAX - d) / 10)
			return "the size does not fit in 63 bits";
		n = n * 10 + d;
		p++;
	}
	if (p == digits)
		return "the size is not a decimal number";
	if (*digits == '0' && p - digits > 1)
		return "the size has leading zeros";
	if (p == end || *p != '\n')
		return "the size line does not end with a newline after the digits";
	p++;
	if (p != end)
		return "there is more after the size line";

	*oid = id;
	*size = n;
	return NULL;
}

int folio_lfs_parse(folio_oid *oid, uint64_t *size, const void *buf, size_t len)
{
	const char *why = version_lfs_parse_quiet(oid, size, buf, len);

	if (why)
		return folio_error_set(FOLIO_EINVAL, "not a git-lfs pointer: %s", why);
	return 0;
}
