/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Text from the other side, made safe to show: the one sanitiser for
 * every string that came from a peer (the applet's monitor names and
 * messages, the technician's reasons, the relay's error sentences, a
 * client's request line in the relay's log) before it reaches a
 * terminal, a log line, an audit record or a GTK label.
 *
 * The rule, the same for every caller:
 *   - the output is valid UTF-8; each ill-formed sequence of the input
 *     (a stray continuation byte, a truncated sequence, an overlong
 *     encoding, a UTF-16 surrogate, a value over U+10FFFF) becomes one
 *     U+FFFD per maximal subpart, as Unicode (chapter 3, "U+FFFD
 *     substitution of maximal subparts") recommends;
 *   - these code points become U+FFFD too: C0 controls U+0000-U+001F
 *     (NUL, TAB, LF and CR included: the output is one line; a caller
 *     that shows several lines splits on '\n' first and sanitises each),
 *     DEL, C1 controls U+0080-U+009F, and the invisible format
 *     characters that can make text look like other text: the soft
 *     hyphen, ALM U+061C, the Mongolian vowel separator, zero-width
 *     space/joiners and LRM/RLM U+200B-U+200F, the line and paragraph
 *     separators, the bidi embeddings and overrides U+202A-U+202E, word
 *     joiner, invisible operators, bidi isolates and deprecated format
 *     characters U+2060-U+206F, the BOM/ZWNBSP U+FEFF, the interlinear
 *     annotation controls U+FFF9-U+FFFB and the tag characters
 *     U+E0000-U+E007F;
 *   - everything else is copied as it is;
 *   - the output is cut to the caller's limit at a character boundary,
 *     never inside a UTF-8 sequence.
 *
 * Applying the rule twice gives the same text as applying it once.
 */
#ifndef LL_TEXT_H
#define LL_TEXT_H

#include <stddef.h>

/* What replaces a byte or a code point the rule takes out: U+FFFD. */
#define LL_TEXT_REPLACEMENT "\xef\xbf\xbd"
/* A buffer this size holds the sanitised form of n bytes uncut: no byte
 * of the input becomes more than three of the output. */
#define LL_TEXT_PRINTABLE_SIZE(n) (3 * (size_t)(n) + 1)

/*
 * Sanitises src[0..len) into dst, at most size - 1 bytes and a NUL
 * (nothing is written when size is 0; dst may then be NULL).  A NUL byte
 * inside src[0..len) is a control like the others: pass strlen(src) for
 * a C string.  src NULL reads as "".  Returns the length the whole
 * sanitised text needs, like snprintf: a value >= size means the output
 * was cut.
 */
size_t ll_text_printable(char *dst, size_t size, const char *src, size_t len);

/*
 * The same into a new malloc'd string of at most max bytes (and a NUL);
 * caller frees.  NULL only when out of memory.
 */
char *ll_text_printable_new(const char *src, size_t len, size_t max);

#endif
