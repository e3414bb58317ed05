/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	mw-virus-zip - the members of a zip archive, read from its directory
 * SYNOPSIS
 *	mw_virus_zip_is_zip, mw_virus_zip_list, mw_virus_zip_extract
 * DESCRIPTION
 *	Enough of PKWARE's APPNOTE to list what a zip attachment holds, so that
 *	a banned name inside it is found whatever the scanner: the central
 *	directory (located by the end record, zip64 included), plus the name in
 *	each member's local header when it differs (extractors that trust the
 *	local header would show that one). An archive whose directory is
 *	missing or broken is walked through its local headers instead. Data
 *	prepended to the archive (self-extractors) is allowed for.
 *
 *	Member names are not encrypted even in an encrypted archive, so names
 *	are checked there too. mw_virus_zip_extract() inflates (stored and
 *	deflated members only) up to a bound, for the type check and for
 *	archives inside archives.
 *
 *	Every read is checked against the buffer: the input is hostile.
 * SEE ALSO
 *	mw-virus-banned.c
 */
#include <string.h>

#include <zlib.h>

#include "mw-virus.h"

#define SIG_LOCAL     0x04034b50u
#define SIG_CENTRAL   0x02014b50u
#define SIG_END       0x06054b50u
#define SIG_END64     0x06064b50u
#define SIG_END64_LOC 0x07064b50u

#define LOCAL_SIZE   30
#define CENTRAL_SIZE 46
#define END_SIZE     22
#define MAX_COMMENT  65535
#define MAX_NAME     4096

/* rd16, rd32, rd64 - little-endian reads at @off, FALSE when out of bounds */
static gboolean
rd16(const guint8 *data, gsize len, guint64 off, guint16 *out)
{
	if (off > len || len - off < 2)
		return FALSE;
	*out = (guint16) (data[off] | (data[off + 1] << 8));
	return TRUE;
}

static gboolean
rd32(const guint8 *data, gsize len, guint64 off, guint32 *out)
{
	if (off > len || len - off < 4)
		return FALSE;
	*out = (guint32) data[off] | ((guint32) data[off + 1] << 8) |
	       ((guint32) data[off + 2] << 16) | ((guint32) data[off + 3] << 24);
	return TRUE;
}

static gboolean
rd64(const guint8 *data, gsize len, guint64 off, guint64 *out)
{
	guint32 lo, hi;

	if (!rd32(data, len, off, &lo) || !rd32(data, len, off + 4, &hi))
		return FALSE;
	*out = (guint64) lo | ((guint64) hi << 32);
	return TRUE;
}

static void
entry_free(MwVirusZipEntry *entry)
{
	g_free(entry->name);
	g_free(entry);
}

/* dup_name - a member name as valid UTF-8 (CP437 bytes become replacement characters) */
static char *
dup_name(const guint8 *data, gsize len)
{
	g_autofree char *raw = g_strndup((const char *) data, len);

	return g_utf8_make_valid(raw, -1);
}

/**
 * mw_virus_zip_is_zip:
 * @data: the first bytes of a file
 * @len: how many
 *
 * Returns: whether the bytes start like a zip archive (a local header, or the
 * end record of an empty archive)
 */
gboolean
mw_virus_zip_is_zip(const guint8 *data, gsize len)
{
	guint32 sig;

	if (!rd32(data, len, 0, &sig))
		return FALSE;
	return sig == SIG_LOCAL || sig == SIG_END;
}

/* find_end - offset of the end-of-central-directory record, searched backwards */
static gboolean
find_end(const guint8 *data, gsize len, guint64 *end_out)
{
	if (len < END_SIZE)
		return FALSE;
	guint64 lowest = len > END_SIZE + MAX_COMMENT ? len - END_SIZE - MAX_COMMENT : 0;
	for (guint64 off = len - END_SIZE + 1; off-- > lowest;) {
		guint32 sig;
		guint16 comment;

		if (data[off] != 'P' || !rd32(data, len, off, &sig) || sig != SIG_END)
			continue;
		/* the comment must reach exactly to the end (or the file was cut) */
		if (rd16(data, len, off + 20, &comment) && off + END_SIZE + comment <= len) {
			*end_out = off;
			return TRUE;
		}
	}
	return FALSE;
}

/* read_end - the directory's offset, size and entry count, zip64 included */
static gboolean
read_end(const guint8 *data, gsize len, guint64 end, guint64 *cd_off_out, guint64 *cd_size_out,
	 guint64 *count_out)
{
	guint16 count16;
	guint32 size32, off32;

	if (!rd16(data, len, end + 10, &count16) || !rd32(data, len, end + 12, &size32) ||
	    !rd32(data, len, end + 16, &off32))
		return FALSE;
	*count_out = count16;
	*cd_size_out = size32;
	*cd_off_out = off32;
	if (count16 != 0xffff && size32 != 0xffffffffu && off32 != 0xffffffffu)
		return TRUE;
	/* zip64: the locator sits right before the end record */
	guint32 sig;
	guint64 end64;
	if (end < 20 || !rd32(data, len, end - 20, &sig) || sig != SIG_END64_LOC ||
	    !rd64(data, len, end - 20 + 8, &end64))
		return FALSE;
	if (!rd32(data, len, end64, &sig) || sig != SIG_END64) {
		/* prepended data shifts everything: the zip64 record ends at the locator */
		if (end < 20 + 56 || !rd32(data, len, end - 20 - 56, &sig) || sig != SIG_END64)
			return FALSE;
		end64 = end - 20 - 56;
	}
	return rd64(data, len, end64 + 32, count_out) && rd64(data, len, end64 + 40, cd_size_out) &&
	       rd64(data, len, end64 + 48, cd_off_out);
}

/* zip64_extra - the 64-bit sizes and offset from a zip64 extra field, where the 32-bit
 * fields say 0xffffffff (APPNOTE 4.5.3: present in this order, only those) */
static void
zip64_extra(const guint8 *data, gsize len, guint64 extra, guint16 extra_len, MwVirusZipEntry *entry,
	    gboolean need_size, gboolean need_csize, gboolean need_offset)
{
	guint64 pos = extra;
	guint64 stop = extra + extra_len;

	while (pos + 4 <= stop) {
		guint16 id, size;

		if (!rd16(data, len, pos, &id) || !rd16(data, len, pos + 2, &size))
			return;
		if (id == 0x0001) {
			guint64 field = pos + 4;
			guint64 field_end = MIN(field + size, stop);

			if (need_size && field + 8 <= field_end &&
			    rd64(data, len, field, &entry->size))
				field += 8;
			if (need_csize && field + 8 <= field_end &&
			    rd64(data, len, field, &entry->compressed_size))
				field += 8;
			if (need_offset && field + 8 <= field_end)
				(void) rd64(data, len, field, &entry->offset);
			return;
		}
		pos += 4 + (guint64) size;
	}
}

/* local_name - the name in the local header at @off, or NULL */
static char *
local_name(const guint8 *data, gsize len, guint64 off)
{
	guint32 sig;
	guint16 name_len;

	if (!rd32(data, len, off, &sig) || sig != SIG_LOCAL ||
	    !rd16(data, len, off + 26, &name_len) || name_len == 0 || name_len > MAX_NAME ||
	    off + LOCAL_SIZE + name_len > len)
		return NULL;
	return dup_name(data + off + LOCAL_SIZE, name_len);
}

/* list_central - the entries of the central directory; NULL if there is none that parses */
static GPtrArray *
list_central(const guint8 *data, gsize len, guint max_entries)
{
	guint64 end, cd_off, cd_size, count, shift = 0;
	guint32 sig;

	if (!find_end(data, len, &end) || !read_end(data, len, end, &cd_off, &cd_size, &count))
		return NULL;
	if (cd_size > end)
		return NULL;
	if (!rd32(data, len, cd_off, &sig) || sig != SIG_CENTRAL) {
		/* data before the archive: the directory really ends where the end record starts */
		guint64 real = end - cd_size;
		if (count > 0 && (!rd32(data, len, real, &sig) || sig != SIG_CENTRAL))
			return NULL;
		shift = real - cd_off;
		cd_off = real;
	}
	g_autoptr(GPtrArray) entries = g_ptr_array_new_with_free_func((GDestroyNotify) entry_free);
	guint64 pos = cd_off;
	for (guint64 i = 0; i < count && entries->len < max_entries; i++) {
		guint16 flags, method, name_len, extra_len, comment_len;
		guint32 csize, size, offset;

		if (!rd32(data, len, pos, &sig) || sig != SIG_CENTRAL ||
		    !rd16(data, len, pos + 8, &flags) || !rd16(data, len, pos + 10, &method) ||
		    !rd32(data, len, pos + 20, &csize) || !rd32(data, len, pos + 24, &size) ||
		    !rd16(data, len, pos + 28, &name_len) ||
		    !rd16(data, len, pos + 30, &extra_len) ||
		    !rd16(data, len, pos + 32, &comment_len) || !rd32(data, len, pos + 42, &offset))
			break;
		if (pos + CENTRAL_SIZE + name_len + extra_len > len)
			break;
		MwVirusZipEntry *entry = g_new0(MwVirusZipEntry, 1);
		entry->name = dup_name(data + pos + CENTRAL_SIZE, MIN(name_len, MAX_NAME));
		entry->encrypted = (flags & 1) != 0;
		entry->method = method;
		entry->compressed_size = csize;
		entry->size = size;
		entry->offset = offset;
		zip64_extra(data, len, pos + CENTRAL_SIZE + name_len, extra_len, entry,
			    size == 0xffffffffu, csize == 0xffffffffu, offset == 0xffffffffu);
		entry->offset += shift;
		g_ptr_array_add(entries, entry);

		/* a local header that names the member differently counts too */
		g_autofree char *other = local_name(data, len, entry->offset);
		if (other != NULL && strcmp(other, entry->name) != 0 &&
		    entries->len < max_entries) {
			MwVirusZipEntry *alias = g_new0(MwVirusZipEntry, 1);
			*alias = *entry;
			alias->name = g_steal_pointer(&other);
			g_ptr_array_add(entries, alias);
		}
		pos += CENTRAL_SIZE + (guint64) name_len + extra_len + comment_len;
	}
	return g_steal_pointer(&entries);
}

/* list_local - walk the local headers of an archive without a usable directory */
static GPtrArray *
list_local(const guint8 *data, gsize len, guint max_entries)
{
	GPtrArray *entries = g_ptr_array_new_with_free_func((GDestroyNotify) entry_free);
	const guint8 *p = data;
	const guint8 *stop = data + len;

	while (entries->len < max_entries && p < stop) {
		const guint8 *hit = memmem(p, (gsize) (stop - p), "PK\x03\x04", 4);
		if (hit == NULL)
			break;
		guint64 off = (guint64) (hit - data);
		guint16 flags, method, name_len, extra_len;
		guint32 csize, size;

		p = hit + 4;
		if (!rd16(data, len, off + 6, &flags) || !rd16(data, len, off + 8, &method) ||
		    !rd32(data, len, off + 18, &csize) || !rd32(data, len, off + 22, &size) ||
		    !rd16(data, len, off + 26, &name_len) || !rd16(data, len, off + 28, &extra_len))
			break;
		/* random bytes inside compressed data rarely look like this */
		if (name_len == 0 || name_len > MAX_NAME || off + LOCAL_SIZE + name_len > len ||
		    memchr(data + off + LOCAL_SIZE, '\0', name_len) != NULL)
			continue;
		MwVirusZipEntry *entry = g_new0(MwVirusZipEntry, 1);
		entry->name = dup_name(data + off + LOCAL_SIZE, name_len);
		entry->encrypted = (flags & 1) != 0;
		entry->method = method;
		entry->compressed_size = csize;
		entry->size = size;
		entry->offset = off;
		g_ptr_array_add(entries, entry);
		/* a member without a data descriptor can be skipped whole */
		if (!(flags & 8) && off + LOCAL_SIZE + name_len + extra_len + csize <= len)
			p = data + off + LOCAL_SIZE + name_len + extra_len + csize;
	}
	return entries;
}

/**
 * mw_virus_zip_list:
 * @data: the whole archive
 * @len: its length
 * @max_entries: stop after this many
 *
 * Returns: (transfer full) (element-type MwVirusZipEntry): the members, from
 * the central directory when there is one that parses, else from the local
 * headers; empty (never NULL) when nothing is found
 */
GPtrArray *
mw_virus_zip_list(const guint8 *data, gsize len, guint max_entries)
{
	GPtrArray *entries = list_central(data, len, max_entries);

	if (entries != NULL && entries->len > 0)
		return entries;
	if (entries != NULL)
		g_ptr_array_unref(entries);
	return list_local(data, len, max_entries);
}

/* inflate_raw - raw deflate data into at most @max_out bytes */
static GBytes *
inflate_raw(const guint8 *in, gsize in_len, gsize max_out)
{
	z_stream zs;
	memset(&zs, 0, sizeof zs);
	if (inflateInit2(&zs, -MAX_WBITS) != Z_OK)
		return NULL;
	GByteArray *out = g_byte_array_sized_new((guint) MIN(max_out, (gsize) 65536));
	guint8 buf[16384];
	zs.next_in = (Bytef *) in;
	zs.avail_in = (uInt) MIN(in_len, (gsize) G_MAXUINT32);
	int rc = Z_OK;
	while (rc == Z_OK && out->len < max_out) {
		zs.next_out = buf;
		zs.avail_out = (uInt) MIN(sizeof buf, max_out - out->len);
		rc = inflate(&zs, Z_NO_FLUSH);
		gsize got = MIN(sizeof buf, max_out - out->len) - zs.avail_out;
		g_byte_array_append(out, buf, (guint) got);
		if (got == 0 && rc == Z_OK)
			break; /* no progress: truncated input */
	}
	inflateEnd(&zs);
	return g_byte_array_free_to_bytes(out);
}

/**
 * mw_virus_zip_extract:
 * @data: the whole archive
 * @len: its length
 * @entry: a member from mw_virus_zip_list() on the same data
 * @max_out: the most bytes wanted (the start of the member is enough for a type check)
 *
 * Returns: (transfer full) (nullable): the first bytes of the member, NULL when
 * it is encrypted, compressed with another method than stored or deflated, or
 * its local header is broken
 */
GBytes *
mw_virus_zip_extract(const guint8 *data, gsize len, const MwVirusZipEntry *entry, gsize max_out)
{
	guint32 sig;
	guint16 name_len, extra_len;

	if (entry->encrypted || (entry->method != 0 && entry->method != 8))
		return NULL;
	if (!rd32(data, len, entry->offset, &sig) || sig != SIG_LOCAL ||
	    !rd16(data, len, entry->offset + 26, &name_len) ||
	    !rd16(data, len, entry->offset + 28, &extra_len))
		return NULL;
	guint64 start = entry->offset + LOCAL_SIZE + name_len + extra_len;
	if (start > len)
		return NULL;
	/* a size of 0 with a data descriptor: take what is there */
	guint64 avail = len - start;
	guint64 csize = entry->compressed_size != 0 ? MIN(entry->compressed_size, avail) : avail;
	if (entry->method == 0)
		return g_bytes_new(data + start, (gsize) MIN(csize, (guint64) max_out));
	return inflate_raw(data + start, (gsize) csize, max_out);
}
