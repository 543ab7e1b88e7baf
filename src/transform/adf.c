/* adf.c - flatten Atlassian Document Format to plain text. */
#include <string.h>

#include "adf.h"

static const char *str(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static int is_block(const char *t)
{
	static const char *const blocks[] = { "paragraph", "heading", "blockquote", "codeBlock",
		"listItem", "rule", "panel", "tableRow", "mediaSingle", "mediaGroup", "decisionItem",
		"taskItem", "expand", "nestedExpand", "bodiedExtension", "extension", NULL };

	for (int i = 0; blocks[i]; i++)
		if (strcmp(t, blocks[i]) == 0)
			return 1;
	return 0;
}

/* Blocks end with '\n'; never two in a row from nesting alone. */
static void end_line(jl_buf *out)
{
	if (out->len && out->data[out->len - 1] != '\n')
		jl_buf_putc(out, '\n');
}

/* item_start: n is the first child of a list item, which stays on the
 * item's "- " line. */
static int walk(jl_buf *out, const json_t *n, int depth, int item_start)
{
	const char *t = str(n, "type");
	const json_t *attrs = json_object_get(n, "attrs");
	const json_t *content = json_object_get(n, "content");
	size_t i;
	json_t *c;

	if (!json_is_object(n) || depth > 100)   /* hostile nesting: stop, keep what we have */
		return 0;
	if (!t)
		t = "";
	if (strcmp(t, "text") == 0) {
		const json_t *tx = json_object_get(n, "text");

		return json_is_string(tx) ? jl_buf_put(out, json_string_value(tx), json_string_length(tx)) : 0;
	}
	if (strcmp(t, "hardBreak") == 0)
		return jl_buf_putc(out, '\n');
	if (strcmp(t, "mention") == 0 || strcmp(t, "status") == 0 || strcmp(t, "emoji") == 0 ||
	    strcmp(t, "date") == 0 || strcmp(t, "inlineCard") == 0 || strcmp(t, "blockCard") == 0 ||
	    strcmp(t, "embedCard") == 0 || strcmp(t, "placeholder") == 0) {
		const char *s = str(attrs, "text");

		if (!s)
			s = str(attrs, "shortName");
		if (!s)
			s = str(attrs, "url");
		if (!s)
			s = str(attrs, "timestamp");
		return s ? jl_buf_puts(out, s) : 0;
	}
	if (strcmp(t, "listItem") == 0 || strcmp(t, "taskItem") == 0) {
		end_line(out);
		jl_buf_puts(out, "- ");
	} else if (strcmp(t, "tableCell") == 0 || strcmp(t, "tableHeader") == 0) {
		if (out->len && out->data[out->len - 1] != '\n')
			jl_buf_puts(out, " | ");
	} else if (is_block(t) && !item_start) {
		end_line(out);
	}
	json_array_foreach(content, i, c) {
		/* A list item's paragraphs stay on the item's line. */
		int first = i == 0 && (strcmp(t, "listItem") == 0 || strcmp(t, "taskItem") == 0);

		if (walk(out, c, depth + 1, first) < 0)
			return -1;
		if (strcmp(t, "listItem") == 0 && out->len && out->data[out->len - 1] == '\n')
			out->len--, out->data[out->len] = '\0';
	}
	if (is_block(t))
		end_line(out);
	return out->oom ? -1 : 0;
}

int jl_adf_text(jl_buf *out, const json_t *doc)
{
	size_t start = out->len;

	if (!json_is_object(doc))
		return -1;
	if (walk(out, doc, 0, 0) < 0)
		return -1;
	/* No trailing newline from the last block. */
	while (out->len > start && out->data[out->len - 1] == '\n')
		out->data[--out->len] = '\0';
	return 0;
}
