/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/*
 * mw-footer - internal interfaces of the footer module (modules/footer/).
 *
 * The module never lets GMime re-serialize a message: GMime is used to find
 * the structure (which part is the body, where its bytes are), and the output
 * is the original byte stream with the edited parts' byte ranges replaced
 * (mw-footer-splice.c). That is what keeps every other part, the preambles,
 * epilogues and boundary lines byte-identical.
 */

#include "mw-txn.h"

G_BEGIN_DECLS

/* the marker header: its presence means "a footer was added before" (any value) */
#define MW_FOOTER_MARKER     "X-Mailwarden-Footer"
#define MW_FOOTER_HTML_BEGIN "<!-- footer appended by mailwarden -->"
#define MW_FOOTER_HTML_END   "<!-- footer end -->"
/* a body part larger than this (encoded) is left alone: it is read into memory */
#define MW_FOOTER_MAX_PART (32 * 1024 * 1024)
/* a top header block larger than this is not a message we edit */
#define MW_FOOTER_MAX_HEADER (4 * 1024 * 1024)

typedef enum {
	MW_FOOTER_APPLY_OUTBOUND = 0,
	MW_FOOTER_APPLY_INBOUND,
	MW_FOOTER_APPLY_ALL,
} MwFooterApply;

typedef enum {
	MW_FOOTER_BOTTOM = 0,
	MW_FOOTER_TOP,
} MwFooterPosition;

typedef enum {
	MW_FOOTER_SIGNED_SKIP = 0,
	MW_FOOTER_SIGNED_ATTACH,
} MwFooterSigned;

/* MwFooterConfig - the [footer] section, filled by the option table */
typedef struct {
	char *text;
	char *html;
	GHashTable *text_domains; /* domain -> path (text.<domain>) */
	GHashTable *html_domains; /* domain -> path (html.<domain>) */
	int apply_to;             /* MwFooterApply */
	int position;             /* MwFooterPosition */
	int signed_mode;          /* MwFooterSigned */
} MwFooterConfig;

/* --- mw-footer-text.c: the footer texts ---------------------------------- */

/**
 * MwFooterText:
 * @text: plain text, UTF-8, LF line ends, no trailing line end
 * @html: an HTML fragment, UTF-8 (escaped text when it came from @text)
 * @html_configured: @html came from an html file (not derived)
 * @origin: "default" or the domain, for log lines
 */
typedef struct {
	char *text;
	char *html;
	gboolean html_configured;
	char *origin;
} MwFooterText;

MwFooterText *mw_footer_text_load(const char *text_path, const char *html_path,
				  const char *base_dir, const char *origin, GError **error);
void mw_footer_text_free(MwFooterText *footer);
char *mw_footer_html_from_text(const char *text);
char *mw_footer_text_from_html(const char *html);
char *mw_footer_text_flowed(const char *text, gboolean delsp);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(MwFooterText, mw_footer_text_free)

/* --- mw-footer-charset.c: charsets ---------------------------------------- */

char *mw_footer_charset_name(const char *charset);
GBytes *mw_footer_charset_encode(const char *utf8, gssize len, const char *charset);
char *mw_footer_charset_decode(const guint8 *data, gsize len, const char *charset, gsize *len_out);
gboolean mw_footer_charset_is_stateful(const char *charset);
gboolean mw_footer_charset_ascii_compatible(const char *charset);
GByteArray *mw_footer_html_meta_utf8(const guint8 *html, gsize len);

/* --- mw-footer-headers.c: raw header blocks ------------------------------ */

/**
 * MwFooterHeaders:
 * @fields: (element-type utf8): one raw field per element, folded lines
 *   included, with their line ends
 * @newline: "\r\n" or "\n", as the block uses
 * @length: bytes of the block, the blank line included
 * @terminated: the block ended with a blank line (else it ran to the end of
 *   the data)
 */
typedef struct {
	GPtrArray *fields;
	const char *newline;
	gsize length;
	gboolean terminated;
} MwFooterHeaders;

MwFooterHeaders *mw_footer_headers_parse(const guint8 *data, gsize len);
void mw_footer_headers_free(MwFooterHeaders *headers);
int mw_footer_headers_find(const MwFooterHeaders *headers, const char *name);
char *mw_footer_headers_field_name(const char *field);
char *mw_footer_headers_value(const MwFooterHeaders *headers, const char *name);
void mw_footer_headers_set(MwFooterHeaders *headers, const char *name, const char *value);
void mw_footer_headers_append(MwFooterHeaders *headers, const char *name, const char *value);
GPtrArray *mw_footer_headers_take_content(MwFooterHeaders *headers);
void mw_footer_headers_write(const MwFooterHeaders *headers, GByteArray *out);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(MwFooterHeaders, mw_footer_headers_free)

/* --- mw-footer-plan.c: where the footer goes ------------------------------ */

typedef enum {
	MW_FOOTER_PLAN_NONE = 0,  /* no body text part (only attachments, calendar...) */
	MW_FOOTER_PLAN_BODY,      /* targets found */
	MW_FOOTER_PLAN_SIGNED,    /* the body is signed: never touched inside */
	MW_FOOTER_PLAN_ENCRYPTED, /* the body is encrypted: never touched */
} MwFooterPlanKind;

/**
 * MwFooterTarget:
 * @part: (transfer none): a body text part of the parsed tree
 * @html: text/html (else text/plain)
 * @top: the part is the message's own body (its headers are the message's)
 */
typedef struct {
	GMimePart *part;
	gboolean html;
	gboolean top;
} MwFooterTarget;

typedef struct {
	MwFooterPlanKind kind;
	GPtrArray *targets; /* MwFooterTarget */
} MwFooterPlan;

MwFooterPlan *mw_footer_plan_build(GMimeMessage *mime);
void mw_footer_plan_free(MwFooterPlan *plan);
gboolean mw_footer_is_attachment(GMimeObject *object);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(MwFooterPlan, mw_footer_plan_free)

/* --- mw-footer-part.c: one edited part ------------------------------------ */

typedef enum {
	MW_FOOTER_EDIT_DONE = 0,  /* @replacement is set */
	MW_FOOTER_EDIT_SKIPPED,   /* left alone, @reason says why */
	MW_FOOTER_EDIT_SIGNED,    /* inline PGP signature in the text */
	MW_FOOTER_EDIT_ENCRYPTED, /* inline PGP message in the text */
} MwFooterEditResult;

/**
 * MwFooterEdit:
 * @start: first byte of the original replaced (the part's header block, or
 *   for the message's own body the first body byte)
 * @end: end of the replaced range (end of the part's content)
 * @replacement: the new bytes for [@start, @end)
 * @top_fields: for a top-level part, "Name: value" changes to make in the
 *   message's header block (name, value pairs), else NULL
 * @reason: why it was skipped
 */
typedef struct {
	MwFooterEditResult result;
	guint64 start;
	guint64 end;
	GBytes *replacement;
	GPtrArray *top_fields;
	char *reason;
} MwFooterEdit;

/**
 * MwFooterSource:
 * @message: the bytes being edited
 * @top: the message's header block
 * @body_offset: where the message body starts
 */
typedef struct {
	MwMessage *message;
	MwFooterHeaders *top;
	guint64 body_offset;
} MwFooterSource;

MwFooterEdit *mw_footer_part_edit(const MwFooterSource *source, const MwFooterTarget *target,
				  const MwFooterText *footer, MwFooterPosition position,
				  GError **error);
void mw_footer_edit_free(MwFooterEdit *edit);
GBytes *mw_footer_read_range(MwMessage *message, guint64 start, guint64 end, GError **error);
GBytes *mw_footer_encode_content(const guint8 *data, gsize len, GMimeContentEncoding encoding,
				 const char *newline);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(MwFooterEdit, mw_footer_edit_free)

/* --- mw-footer-splice.c: the new message ---------------------------------- */

gboolean mw_footer_source_init(MwFooterSource *source, MwMessage *message, GError **error);
void mw_footer_source_clear(MwFooterSource *source);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(MwFooterSource, mw_footer_source_clear)
MwMessage *mw_footer_splice_edits(const MwFooterSource *source, GPtrArray *edits,
				  const char *spool_dir, GError **error);
MwMessage *mw_footer_splice_attach(const MwFooterSource *source, const MwFooterText *footer,
				   MwFooterPosition position, const char *spool_dir,
				   GError **error);

/* --- mw-footer-apply.c: one message --------------------------------------- */

typedef enum {
	MW_FOOTER_OUTCOME_ADDED = 0, /* footer inserted into the body text */
	MW_FOOTER_OUTCOME_ATTACHED,  /* signed original wrapped, footer as its own part */
	MW_FOOTER_OUTCOME_PRESENT,   /* marker found: done before (retry, loop) */
	MW_FOOTER_OUTCOME_SIGNED,    /* signed, signed = skip */
	MW_FOOTER_OUTCOME_ENCRYPTED, /* encrypted: never touched */
	MW_FOOTER_OUTCOME_NOBODY,    /* no body text part */
	MW_FOOTER_OUTCOME_UNCHANGED, /* body parts could not take a footer (see the log) */
} MwFooterOutcome;

extern const char *const mw_footer_outcome_names[];

MwMessage *mw_footer_apply(MwTxn *txn, MwMessage *message, const MwFooterText *footer,
			   MwFooterPosition position, MwFooterSigned signed_mode,
			   MwFooterOutcome *outcome_out, GError **error);

G_END_DECLS
