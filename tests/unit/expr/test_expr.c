/* Unit tests for core/views/expr.c: the @where expression language. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "folio/error.h"
#include "folio/expr.h"

#include "samples.h"

static int match(const char *text, const sample *s)
{
	folio_expr *e = NULL;
	int rc = folio_expr_parse(&e, text);
	cr_assert_eq(rc, 0, "parse %s: %s", text, folio_error_last());
	int m = folio_expr_eval(e, &ops, s);
	folio_expr_free(e);
	return m;
}

/* Expects which of A, B, C match, as a string like "A.C". */
static void expect_set(const char *text, const char *want)
{
	char got[4] = "...";
	if (match(text, &A))
		got[0] = 'A';
	if (match(text, &B))
		got[1] = 'B';
	if (match(text, &C))
		got[2] = 'C';
	cr_expect_str_eq(got, want, "%s", text);
}

Test(expr, examples)
{
	expect_set("class=car", "A..");
	expect_set("class=car,brightness=lt:0.2", "A..");
	expect_set("class=car,brightness<0.2", "A..");
	expect_set("class=car,brightness<0.05", "...");
	expect_set("split=train", "A..");
	expect_set("tag=night", "A..");
	expect_set("format=png", ".B.");
	expect_set("width=ge:1024", "A..");
	expect_set("width>=1024", "A..");
	expect_set("count.car=ge:2", "A..");
	expect_set("count.car=ge:3", "...");
	expect_set("count.truck=1", ".B.");
	expect_set("class=in:car:truck", "AB.");
	expect_set("class=in:car;truck", "AB.");
	expect_set("class=car+class=truck", "AB.");
	expect_set("class=car|class=truck", "AB.");
	expect_set("path=glob:images%2F2011_*", "...");   /* * stays within one part */
	expect_set("path=glob:images%2F2011_*%2F*", "A..");
	expect_set("path=glob:images%2F**", "AB.");
	expect_set("path=glob:**%2F*.png", ".B.");
	expect_set("path=glob:*.png", ".B.");              /* no '/': basename */
	expect_set("path=glob:images%2F**%2Fb.png", ".B.");
	expect_set("path=glob:**%2Fc.webp", "..C");
	expect_set("path=glob:**", "ABC");
	expect_set("path=glob:?.webp", "..C");
	expect_set("path=glob:[ab].*", "AB.");
	expect_set("path=glob:[!ab].*", "..C");
	expect_set("not:class=person", ".BC");
	expect_set("!class=person", ".BC");
	expect_set("grayscale=1", ".B.");
	expect_set("labeled=0", "..C");
	expect_set("labeled=1", "AB.");
	expect_set("objects=ge:3", "A..");
	expect_set("objects=0", "..C");
	expect_set("blurriness=gt:0.5", "A..");
	expect_set("pred.class=car", "A..");
	expect_set("pred.score=ge:0.5", "A..");
	expect_set("pred.score=lt:0.5", "A..");
	expect_set("pred.count.truck=1", "A..");
	expect_set("pred.objects=0", ".BC");
	expect_set("labeler=alice", "A..");
	expect_set("labeler=ne:alice", ".BC");
	expect_set("class!=car", ".BC");
	expect_set("split=ne:train", ".BC");  /* absent split: ne is "not eq" */
	expect_set("brightness=gt:0", "AB.");  /* absent features never compare */
	expect_set("not:brightness=gt:0", "..C");
	expect_set("size=in:10:9000", ".BC");
	expect_set("brightness_mean<0.5", "A..");
	expect_set("split=\"train\"", "A..");
	expect_set("tag=glob:st*", "A..");
}

Test(expr, precedence)
{
	/* not > and > or */
	expect_set("class=truck+class=car,split=val", ".B.");     /* truck + (car,val) */
	expect_set("class=car,split=val+format=webp", "..C");     /* (car,val) + webp */
	expect_set("[class=truck+class=car],split=train", "A..");
	expect_set("(class=truck+class=car)&&split=train", "A..");
	expect_set("not:class=car,format=png", ".B.");            /* (not car), png */
	expect_set("not:[class=car+format=png]", "..C");
	expect_set("not:not:class=car", "A..");
	expect_set("class=car||class=truck&format=png", "AB.");
}

static void expect_canon(const char *a, const char *want)
{
	folio_expr *e = NULL;
	cr_assert_eq(folio_expr_parse(&e, a), 0, "%s: %s", a, folio_error_last());
	char *c = folio_expr_canonical(e);
	cr_assert(c);
	cr_expect_str_eq(c, want, "canonical of %s", a);
	/* The canonical text parses back to itself. */
	folio_expr *e2 = NULL;
	cr_assert_eq(folio_expr_parse(&e2, c), 0, "%s: %s", c, folio_error_last());
	char *c2 = folio_expr_canonical(e2);
	cr_expect_str_eq(c2, c);
	free(c);
	free(c2);
	folio_expr_free(e);
	folio_expr_free(e2);
}

Test(expr, canonical)
{
	expect_canon("class=car,brightness<0.2", "brightness=lt:0.2,class=eq:car");
	expect_canon("class=car,brightness=lt:0.2", "brightness=lt:0.2,class=eq:car");
	expect_canon("brightness=lt:.20,class=car", "brightness=lt:0.2,class=eq:car");
	expect_canon("class=in:truck:car:car", "class=in:car:truck");
	expect_canon("class=in:car", "class=eq:car");
	expect_canon("class=car+class=truck", "class=eq:car+class=eq:truck");
	expect_canon("class=truck+class=car", "class=eq:car+class=eq:truck");
	expect_canon("[split=val+split=test],class=car", "[split=eq:test+split=eq:val],class=eq:car");
	expect_canon("class=car,[class=car]", "class=eq:car");
	expect_canon("pred.score>=0.5+count.car>=2", "count.car=ge:2+pred.score=ge:0.5");
	expect_canon("not:[class=car,tag=x]", "not:[class=eq:car,tag=eq:x]");
	expect_canon("path=glob:images%2f2011_*", "path=glob:images%2F2011_*");
	expect_canon("tag=\"a,b\"", "tag=eq:a%2Cb");
	expect_canon("tag=\"\"", "tag=eq:\"\"");
	expect_canon("count.traffic light=0", "count.traffic light=eq:0");
	expect_canon("width=ge:1e3", "width=ge:1000");
}


static void expect_error(const char *text, const char *msg)
{
	folio_expr *e = (folio_expr *)1;
	cr_expect_eq(folio_expr_parse(&e, text), FOLIO_EINVAL, "accepted %s", text);
	cr_expect_null(e);
	cr_expect_str_eq(folio_error_last(), msg);
}

Test(expr, errors)
{
	expect_error("brightness=lt:abc", "@where: brightness=lt:abc: column 15: expected a number after 'lt:'");
	expect_error("", "@where: : column 1: empty expression; expected a condition such as class=car");
	expect_error("class=car,", "@where: class=car,: column 11: expected a condition after ','");
	expect_error("class=car+", "@where: class=car+: column 11: expected a condition after '+'");
	expect_error("brigthness<0.2", "@where: brigthness<0.2: column 1: unknown field 'brigthness' (did you mean 'brightness'? see docs/queries.md)");
	expect_error("clas=car", "@where: clas=car: column 1: unknown field 'clas' (did you mean 'class'? see docs/queries.md)");
	expect_error("width<1O24", "@where: width<1O24: column 7: expected a number after '<'");
	expect_error("width=between:1", "@where: width=between:1: column 7: unknown operator 'between:' (expected eq, ne, lt, le, gt, ge, in or glob)");
	expect_error("path=images/a.jpg", "@where: path=images/a.jpg: column 12: '/' cannot appear in a path segment; write it as %2F");
	expect_error("class=lt:car", "@where: class=lt:car: column 6: 'lt:' needs a numeric field; 'class' is text");
	expect_error("width=glob:1*", "@where: width=glob:1*: column 6: 'glob:' needs a text field; 'width' is numeric");
	expect_error("class", "@where: class: column 6: expected an operator ('=', '=lt:', '<', ...) after field 'class'");
	expect_error("class=", "@where: class=: column 7: expected a value after '='");
	expect_error("class=in:car:", "@where: class=in:car:: column 14: expected a value after ':'");
	expect_error("size=in:1:x", "@where: size=in:1:x: column 11: expected a number after ':'");
	expect_error("[class=car", "@where: [class=car: column 11: expected ']' to close the '[' at column 1");
	expect_error("class=car]", "@where: class=car]: column 10: unmatched ']'");
	expect_error(",class=car", "@where: ,class=car: column 1: expected a field name, found ','");
	expect_error("tag=a%zz", "@where: tag=a%zz: column 6: expected two hex digits after '%' (e.g. %2F for '/')");
	expect_error("tag=a%00", "@where: tag=a%00: column 6: %00 (NUL) not allowed");
	expect_error("tag=\"abc", "@where: tag=\"abc: column 5: unterminated quoted value (expected '\"')");
	expect_error("tag=a\tb", "@where: tag=a?b: column 6: control character (byte 0x09) not allowed");
	expect_error("count.=1", "@where: count.=1: column 7: expected a class name after 'count.'");
	expect_error("width=nan", "@where: width=nan: column 7: expected a number after '='");
	expect_error("path=glob:[ab", "@where: path=glob:[ab: column 11: unterminated '[' in glob (expected ']')");
}

/* Found by the expr fuzz target: a subnormal number, exact in hex, was
 * printed as 5e-324, which strtod reads with ERANGE, so the canonical
 * text did not parse back. Subnormals are numbers; only a value that
 * underflows to zero (or overflows) is refused. */
Test(expr, subnormal_numbers_round_trip)
{
	expect_canon("width>0x1p-1074", "width=gt:5e-324");
	expect_canon("width>5e-324", "width=gt:5e-324");
	expect_canon("width<-2.5e-320", "width=lt:-2.5e-320");
	expect_error("width>1e-400", "@where: width>1e-400: column 7: expected a number after '>'");
	expect_error("width>1e400", "@where: width>1e400: column 7: expected a number after '>'");
}

/* Found by the expr fuzz target: %5D is a ']' byte of a glob that the
 * scanner does not count as a bracket, so printing it raw ended the value
 * early (or, for '[', swallowed what followed) when the canonical text
 * was read back. Brackets stay raw only where they pair up. */
Test(expr, glob_escaped_brackets_round_trip)
{
	expect_canon("path=glob:a%5Db", "path=glob:a%5Db");
	expect_canon("path=glob:[%5D]x,class=car", "class=eq:car,path=glob:%5B%5D%5Dx");
	expect_canon("path=glob:[%5B]x,class=car", "class=eq:car,path=glob:%5B%5B%5Dx");
	expect_canon("path=glob:[ab]*.jpg", "path=glob:[ab]*.jpg");
	cr_expect(match("path=glob:*[%5D]*", &A) == 0);
}

/* Found by the expr fuzz target: "in:" with one value repeated printed as
 * "in:train", whose own canonical text is "eq:train". Lists are
 * deduplicated when parsed, so a list of one value is "eq:" at once. */
Test(expr, in_list_of_one_repeated_value)
{
	expect_canon("split=in:train;train", "split=eq:train");
	expect_canon("width=in:3:3:3e0", "width=eq:3");
	expect_canon("class=in:b:a:b:a", "class=in:a:b");
	expect_set("split=in:val;val", ".B.");
}

/* Found by the expr fuzz target: escapes and explicit operators make the
 * canonical text longer than the text it came from (a quoted ',' is %2C),
 * past the length the parser took, so it did not parse back. Longer
 * texts are taken when they are canonical, up to FOLIO_EXPR_MAX_CANON_LEN. */
Test(expr, long_canonical_text_parses_back)
{
	char text[2100];
	folio_expr *e = NULL, *back = NULL;

	memcpy(text, "tag=\"", 5);
	memset(text + 5, ',', 2000);
	memcpy(text + 2005, "\"", 2);
	cr_assert_eq(folio_expr_parse(&e, text), 0, "%s", folio_error_last());
	char *c = folio_expr_canonical(e);
	cr_assert_not_null(c);
	cr_expect_eq(strlen(c), 6007);
	cr_expect_eq(folio_expr_parse(&back, c), 0, "%s", folio_error_last());
	char *again = folio_expr_canonical(back);
	cr_expect_str_eq(again, c);
	folio_expr_free(back);

	/* as long, but not canonical (tag= for tag=eq:): too long */
	memmove(c + 4, c + 7, strlen(c + 7) + 1);
	cr_expect_eq(folio_expr_parse(&back, c), FOLIO_EINVAL);
	cr_expect(strstr(folio_error_last(), "column 4097: expression too long (6004 bytes; at most 4096)"),
		  "%s", folio_error_last());
	free(again);
	free(c);
	folio_expr_free(e);
}

Test(expr, refuses_nul_long_and_deep)
{
	folio_expr *e = NULL;
	cr_expect_eq(folio_expr_parsen(&e, "class=c\0ar", 10), FOLIO_EINVAL);
	cr_expect_str_eq(folio_error_last(), "@where: class=c?ar: column 8: NUL byte not allowed");

	char *big = malloc(FOLIO_EXPR_MAX_LEN + 100);
	cr_assert(big);
	memcpy(big, "class=", 6);
	memset(big + 6, 'x', FOLIO_EXPR_MAX_LEN + 100 - 7);
	big[FOLIO_EXPR_MAX_LEN + 99] = '\0';
	cr_expect_eq(folio_expr_parse(&e, big), FOLIO_EINVAL);
	cr_expect(strstr(folio_error_last(), "expression too long (4195 bytes; at most 4096)"), "%s", folio_error_last());
	cr_expect(strlen(folio_error_last()) < 200);
	/* exactly the limit is fine */
	big[FOLIO_EXPR_MAX_LEN] = '\0';
	cr_expect_eq(folio_expr_parse(&e, big), 0, "%s", folio_error_last());
	folio_expr_free(e);

	/* nesting: 32 levels fine, 33 refused; 2000 refused without a crash */
	for (int depth = 1; depth <= 2000; depth = depth < 40 ? depth + 1 : depth * 2) {
		size_t k = 0;
		for (int i = 0; i < depth; i++)
			big[k++] = '[';
		memcpy(big + k, "tag=x", 5);
		k += 5;
		for (int i = 0; i < depth; i++)
			big[k++] = ']';
		big[k] = '\0';
		int rc = folio_expr_parse(&e, big);
		if (k > FOLIO_EXPR_MAX_LEN)
			cr_expect_eq(rc, FOLIO_EINVAL);
		else if (depth <= FOLIO_EXPR_MAX_DEPTH)
			cr_expect_eq(rc, 0, "depth %d: %s", depth, folio_error_last());
		else
			cr_expect(rc == FOLIO_EINVAL && strstr(folio_error_last(), "nested too deeply"),
				  "depth %d: %s", depth, folio_error_last());
		folio_expr_free(e);
		e = NULL;
	}
	for (int i = 0; i < 1000; i++)
		memcpy(big + 4 * i, "not:", 4);
	memcpy(big + 4000, "tag=x", 6);
	cr_expect_eq(folio_expr_parse(&e, big), FOLIO_EINVAL);
	cr_expect(strstr(folio_error_last(), "nested too deeply"), "%s", folio_error_last());
	free(big);
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static unsigned rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)rng;
}

/* Random bytes and random mixes of the language's own tokens: parsing
 * never crashes, every refusal has a message, and every accepted
 * expression evaluates and round-trips through its canonical text. */
Test(expr, fuzz)
{
	static const char *const tok[] = { "class", "=", "car", ",", "+", "not:", "[", "]", "(", ")",
		"lt:", "in:", "glob:", ":", ";", "*", "**", "?", "%2F", "%", "\"", "count.", "pred.",
		"score", "<", ">=", "!", "!=", "&&", "||", "width", "1", "0.5", "-", "e9", "path",
		"tag", "\\", "x", "[!a]" };
	char buf[256];
	for (int iter = 0; iter < 60000; iter++) {
		size_t n = rnd() % sizeof buf;
		if (iter & 1) {
			for (size_t i = 0; i < n; i++)
				buf[i] = (char)(rnd() & 0xff);
		} else {
			size_t k = 0, want = n % 16;
			for (size_t i = 0; i < want; i++) {
				const char *t = tok[rnd() % (sizeof tok / sizeof tok[0])];
				size_t l = strlen(t);
				if (k + l >= sizeof buf)
					break;
				memcpy(buf + k, t, l);
				k += l;
			}
			n = k;
		}
		folio_expr *e = NULL;
		int rc = folio_expr_parsen(&e, buf, n);
		if (rc < 0) {
			cr_assert_eq(rc, FOLIO_EINVAL);
			cr_assert(e == NULL);
			cr_assert(strncmp(folio_error_last(), "@where: ", 8) == 0);
			cr_assert(strstr(folio_error_last(), ": column "));
			cr_assert(!strchr(folio_error_last(), '\n'));
			continue;
		}
		(void)folio_expr_eval(e, &ops, &A);
		(void)folio_expr_eval(e, &ops, &C);
		char *c = folio_expr_canonical(e);
		cr_assert(c);
		folio_expr *e2 = NULL;
		cr_assert_eq(folio_expr_parse(&e2, c), 0, "canonical %s of %.*s: %s", c, (int)n, buf,
			     folio_error_last());
		char *c2 = folio_expr_canonical(e2);
		cr_assert_str_eq(c, c2);
		cr_assert_eq(folio_expr_eval(e, &ops, &A), folio_expr_eval(e2, &ops, &A), "%s", c);
		free(c);
		free(c2);
		folio_expr_free(e);
		folio_expr_free(e2);
	}
}

Test(expr, fields_list)
{
	const char *const *f = folio_expr_fields();
	size_t n = 0;
	while (f[n])
		n++;
	cr_expect(n > 20);
	cr_expect_str_eq(f[0], "brightness");
}
