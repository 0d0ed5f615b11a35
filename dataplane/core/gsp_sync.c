/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Anti-entropy: SYN digests over a window of id buckets, the ACK with
 * the states a peer lacks and requests for what we lack, and ACK2.
 */
#include <string.h>

#include "gsp_util.h"

#include "gsp_build.h"
#include "gsp_node_int.h"

/*
 * Digests by id, in place: heapsort, because glibc's qsort allocates a
 * merge buffer for arrays over 1 KiB (43 digests), once per packet.
 */
static void
gsp_digest_sift(struct gsp_digest *d, uint32_t i, uint32_t n)
{
	struct gsp_digest v = d[i];

	for (;;) {
		uint32_t c = 2 * i + 1;

		if (c >= n)
			break;
		if (c + 1 < n && d[c + 1].id > d[c].id)
			c++;
		if (d[c].id <= v.id)
			break;
		d[i] = d[c];
		i = c;
	}
	d[i] = v;
}

static void
gsp_digest_sort(struct gsp_digest *d, uint32_t n)
{
	for (uint32_t i = n / 2; i-- > 0;)
		gsp_digest_sift(d, i, n);
	for (uint32_t end = n; end-- > 1;) {
		struct gsp_digest t = d[0];

		d[0] = d[end];
		d[end] = t;
		gsp_digest_sift(d, 0, end);
	}
}

static bool
gsp_digest_has(const struct gsp_digest *d, uint32_t n, uint64_t id)
{
	uint32_t lo = 0, hi = n;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (d[mid].id == id)
			return true;
		if (d[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

void
gsp_handle_syn(struct gsp_node *n, const struct gsp_addr *src,
	       const struct gsp_wire_msg *m, struct gsp_scratch *s)
{
	uint32_t n_send = 0, n_req = 0, b_lo, b_hi, max = n->p.ack_states;
	struct gsp_out o;

	for (uint32_t i = 0; i < m->n_digests; i++) {
		const struct gsp_digest *d = &m->digests[i];
		int32_t slot = gsp_table_find(n->table, d->id);
		const struct gsp_member_rec *r;
		int c;

		if (slot < 0) {
			s->requests[n_req++] = (struct gsp_digest){ d->id, 0, 0 };
			continue;
		}
		r = gsp_rec(n, (uint32_t)slot);
		c = gsp_version_cmp(r->generation, r->version, d->generation,
				    d->version);
		/* ids may repeat in a hostile digest: bound by both */
		if (c > 0 && n_send < max && n_send < s->send_cap)
			s->send_slots[n_send++] = (uint32_t)slot;
		else if (c < 0)
			s->requests[n_req++] = (struct gsp_digest){
				d->id, r->generation, r->version };
	}
	/* members in the listed range that the sender did not list: walk
	 * our buckets of that range (bounded by the answer budget) */
	memcpy(s->sorted, m->digests, m->n_digests * sizeof(*s->sorted));
	gsp_digest_sort(s->sorted, m->n_digests);
	b_lo = gsp_bucket_of(n, m->range_lo);
	b_hi = gsp_bucket_of(n, m->range_hi);
	if (max > s->send_cap)
		max = s->send_cap;
	for (uint32_t b = b_lo; b <= b_hi && n_send < max; b++) {
		for (uint32_t slot = n->bucket_head[b];
		     slot != GSP_NONE && n_send < max;
		     slot = n->bucket_next[slot]) {
			uint64_t id = gsp_rec(n, slot)->id;
			uint64_t key = gsp_id_key(id);

			if (key >= m->range_lo && key <= m->range_hi &&
			    !gsp_digest_has(s->sorted, m->n_digests, id))
				s->send_slots[n_send++] = slot;
		}
	}
	if (n_send != 0 || n_req != 0) {
		gsp_out_init(&o, n, GSP_MSG_ACK, src);
		for (uint32_t i = 0; i < n_send; i++)
			gsp_out_slot(&o, s->send_slots[i]);
		for (uint32_t i = 0; i < n_req; i++)
			gsp_out_digest(&o, &s->requests[i]);
		gsp_out_flush(&o);
	}
	/* the pull half of the epidemic: the first packet of a window
	 * carries our news back */
	if (m->hdr.flags & GSP_SYN_FLAG_FIRST)
		gsp_rumor_push(n, src);
}

void
gsp_handle_ack(struct gsp_node *n, const struct gsp_addr *src,
	       const struct gsp_wire_msg *m, uint64_t now_ns)
{
	struct gsp_out o;

	uint32_t sent = 0;

	for (uint32_t i = 0; i < m->n_states; i++)
		gsp_merge(n, &m->states[i], now_ns);
	/* answer each requested member once, and no more than a SYN packet
	 * is answered with: a forged ACK must not make us an amplifier */
	gsp_digest_sort(m->digests, m->n_digests);
	gsp_out_init(&o, n, GSP_MSG_ACK2, src);
	for (uint32_t i = 0; i < m->n_digests && sent < n->p.ack_states; i++) {
		const struct gsp_digest *d = &m->digests[i];
		int32_t slot = gsp_table_find(n->table, d->id);
		const struct gsp_member_rec *r;

		if (slot < 0 || (i > 0 && d->id == m->digests[i - 1].id))
			continue;
		r = gsp_rec(n, (uint32_t)slot);
		if (gsp_version_cmp(r->generation, r->version, d->generation,
				    d->version) > 0) {
			gsp_out_slot(&o, (uint32_t)slot);
			sent++;
		}
	}
	gsp_out_flush(&o);
}

static void
gsp_syn_add_slot(struct gsp_node *n, struct gsp_wire_writer *w, uint32_t slot)
{
	const struct gsp_member_rec *r = gsp_rec(n, slot);
	struct gsp_digest d = { r->id, r->generation, r->version };

	gsp_wire_put_digest(w, &d);
}

static uint32_t
gsp_bucket_size(const struct gsp_node *n, uint32_t b)
{
	uint32_t c = 0;

	for (uint32_t s = n->bucket_head[b]; s != GSP_NONE; s = n->bucket_next[s])
		c++;
	return c;
}

/*
 * Sends a window of at most syn_packets digest packets starting at bucket
 * `first`; returns the bucket where the next window starts. Each packet
 * covers whole buckets, i.e. an id range, and lists every member we know
 * in it. A bucket too big for one packet (only with hostile ids) is sent
 * alone, truncated: its range still ends at the bucket's end.
 */
uint32_t
gsp_send_window(struct gsp_node *n, const struct gsp_addr *dst, uint32_t first)
{
	uint32_t per = (n->body_cap - GSP_WIRE_HDR_LEN -
			GSP_WIRE_SYN_PREFIX) / GSP_WIRE_DIGEST_LEN;
	uint32_t b = first, covered = 0;

	for (uint32_t pkt = 0; pkt < n->p.syn_packets &&
	     covered < n->n_buckets; pkt++) {
		struct gsp_wire_writer w;
		uint32_t count = 0;
		uint64_t lo = gsp_bucket_lo(n, b), hi;

		gsp_wire_begin(&w, n->tx, n->body_cap, GSP_MSG_SYN,
			       n->cluster_hash, n->id);
		if (pkt == 0)
			gsp_put_le16(n->tx + GSP_HDR_OFF_FLAGS,
				     GSP_SYN_FLAG_FIRST);
		/* whole buckets, and never across the end of the id space,
		 * so the packet's range stays one interval */
		do {
			uint32_t size = gsp_bucket_size(n, b);

			if (count != 0 && count + size > per)
				break;
			for (uint32_t s = n->bucket_head[b];
			     s != GSP_NONE && count < per; s = n->bucket_next[s]) {
				gsp_syn_add_slot(n, &w, s);
				count++;
			}
			b = (b + 1) & (n->n_buckets - 1);
			covered++;
		} while (b != 0 && covered < n->n_buckets);
		hi = b == 0 ? UINT64_MAX : gsp_bucket_lo(n, b) - 1;
		gsp_wire_set_range(&w, lo, hi);
		gsp_node_send(n, dst, gsp_wire_finish(&w));
		GSP_CTR_INC(n->ctr.tx_syn);
	}
	return b;
}
