/* adf.h - Atlassian Document Format → plain text (pure, thread-safe). */
#ifndef JL_TRANSFORM_ADF_H
#define JL_TRANSFORM_ADF_H

#include <jansson.h>

#include "../core/buf.h"

/*
 * Append the plain text of an ADF document (Cloud's description/comment
 * value, {"type":"doc","content":[…]}) to out: text nodes as is, a line
 * break per hard break and per block (paragraph, heading, list item, code
 * block, table row, …), list items prefixed "- ", mentions/emoji/status/
 * cards by their text or URL. Unknown node types contribute their
 * children, so new ADF nodes degrade to their text, never to nothing.
 * Returns 0, or -1 on OOM or when doc is not an object (the caller names
 * the field in its error).
 */
int jl_adf_text(jl_buf *out, const json_t *doc);

#endif
