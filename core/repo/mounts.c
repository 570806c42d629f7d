/*
 * mounts.c — finding folio mounts in the kernel's mount table.
 *
 * A line of /proc/self/mountinfo (proc(5)):
 *
 *   36 35 0:52 / /mnt/a\040b rw,nosuid - fuse.foliofs folio:/data/repo rw,...
 *
 * mount ID, parent ID, major:minor, root, mount point, options, optional
 * fields ending at " - ", then the type, the source and the super options.
 * The kernel writes a space, tab, newline and backslash in the mount point
 * and the source as \040, \011, \012 and \134; foliofs names its source
 * "folio:REPO".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "folio/error.h"
#include "folio/repo.h"
#include "folio/util.h"

/* The next space-delimited field of *s, undoing the octal escapes, into
 * out; advances *s past it. 1, or 0 if it was cut to len - 1 bytes, or -1
 * if the line has no more fields. */
static int field(const char **s, char *out, size_t len)
{
	const char *p = *s;
	size_t n = 0;
	int fits = 1;

	while (*p == ' ')
		p++;
	if (!*p || *p == '\n')
		return -1;
	for (; *p && *p != ' ' && *p != '\n'; p++) {
		char c = *p;
		if (p[0] == '\\' && p[1] >= '0' && p[1] <= '3' && p[2] >= '0' && p[2] <= '7' &&
		    p[3] >= '0' && p[3] <= '7') {
			c = (char)((p[1] - '0') * 64 + (p[2] - '0') * 8 + (p[3] - '0'));
			p += 3;
		}
		if (n + 1 < len)
			out[n++] = c;
		else
			fits = 0;
	}
	if (len)
		out[n] = '\0';
	*s = p;
	return fits;
}

int folio_mountinfo_match(char *repo, size_t len, const char *line, const char *mnt)
{
	char point[FOLIO_PATH_BUF], type[64], src[FOLIO_PATH_BUF];
	const char *s = line, *dash;

	for (int i = 0; i < 4; i++)
		if (field(&s, point, sizeof point) < 0)
			return 0;
	if (field(&s, point, sizeof point) != 1 || strcmp(point, mnt))
		return 0;
	if (!(dash = strstr(s, " - ")))
		return 0;
	s = dash + 3;
	if (field(&s, type, sizeof type) != 1 || strcmp(type, "fuse.foliofs"))
		return 0;
	if (field(&s, src, sizeof src) != 1 || strncmp(src, "folio:", 6))
		return 0;
	if (repo && len) {
		if (strlen(src + 6) >= len)
			return 0;
		memcpy(repo, src + 6, strlen(src + 6) + 1);
	}
	return 1;
}

int folio_mount_find(char *repo, size_t len, const char *mnt)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char *line = NULL;
	size_t cap = 0;
	int found = 0;

	if (!f)
		return folio_error_errno(errno, "cannot read /proc/self/mountinfo");
	while (!found && getline(&line, &cap, f) > 0)
		found = folio_mountinfo_match(repo, len, line, mnt);
	free(line);
	fclose(f);
	return found;
}

int folio_mount_of_repo(char *mnt, size_t len, const char *repo)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char *line = NULL, point[FOLIO_PATH_BUF], type[64], src[FOLIO_PATH_BUF];
	size_t cap = 0;
	int found = 0;

	if (!f)
		return folio_error_errno(errno, "cannot read /proc/self/mountinfo");
	while (!found && getline(&line, &cap, f) > 0) {
		const char *s = line, *dash;
		int ok = 1;
		for (int i = 0; i < 4 && ok; i++)
			ok = field(&s, point, sizeof point) >= 0;
		if (!ok || field(&s, point, sizeof point) != 1 || !(dash = strstr(s, " - ")))
			continue;
		s = dash + 3;
		if (field(&s, type, sizeof type) != 1 || strcmp(type, "fuse.foliofs") ||
		    field(&s, src, sizeof src) != 1 || strncmp(src, "folio:", 6) ||
		    strcmp(src + 6, repo))
			continue;
		/* the first is the version mount: its HEAD session is mounted
		 * after it, inside it */
		size_t pl = strlen(point);
		if (pl < len) {
			memcpy(mnt, point, pl + 1);
			found = 1;
		}
	}
	free(line);
	fclose(f);
	return found;
}
