/* SPDX-License-Identifier: GPL-2.0-or-later */
/* See fake_platform.h. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ll_err.h"
#include "platform.h"
#include "fake_platform.h"

#define FAKE_PAINTS 16

struct fake {
	struct ll_platform base;
	uint32_t w, h;
	bool damage;
	bool first;
	uint32_t frame;
	struct ll_fake_input *in;
	/* ll_fake_platform_scroll: the test's thread adds, ours applies */
	atomic_int scroll_pending;
	bool doc;      /* showing the document, from the first scroll on */
	uint32_t top;  /* its row at the top of the screen */
	bool scrolled; /* the whole screen is damaged */
	/* ll_fake_platform_photo: the test's thread queues paints under
	 * lock, ours applies them to scr and reports their bounding box */
	pthread_mutex_t lock;
	struct ll_capture_rect paint[FAKE_PAINTS];
	uint32_t paint_phase[FAKE_PAINTS];
	atomic_uint n_paint;
	uint32_t *scr; /* the screen once painted; under lock */
	bool dirty;
	uint32_t dx1, dy1, dx2, dy2;
	atomic_bool poke;
	atomic_uint grabs;
};

static struct fake *to_fake(struct ll_platform *p)
{
	return (struct fake *)p;
}

/* Text-like lines 12 rows high: 9 rows of glyph-ish pixels, 3 blank;
 * each row its own pattern. */
uint32_t ll_fake_doc_pixel(uint32_t x, uint32_t y)
{
	uint32_t h = x / 2 * 0x9e3779b1u ^ y * 0x85ebca6bu;

	h ^= h >> 15;
	h *= 0x2c1b3c6du;
	h ^= h >> 12;
	return (y % 12 < 9 && (h & 3) == 0) ? 0x000000u : 0xffffffu;
}

void ll_fake_platform_scroll(struct ll_platform *p, int rows)
{
	atomic_fetch_add(&to_fake(p)->scroll_pending, rows);
}

uint32_t ll_fake_photo_pixel(uint32_t x, uint32_t y, uint32_t phase)
{
	uint32_t r = (x * 5 + phase * 17) & 0xff;
	uint32_t g = (y * 3 + x + phase * 29) & 0xff;
	uint32_t b = (x * y / 3 + phase * 7) & 0xff;

	return r << 16 | g << 8 | b;
}

void ll_fake_platform_photo(struct ll_platform *p, uint32_t phase, uint32_t x,
			    uint32_t y, uint32_t w, uint32_t h)
{
	struct fake *f = to_fake(p);
	unsigned n;

	pthread_mutex_lock(&f->lock);
	n = atomic_load(&f->n_paint);
	if (n < FAKE_PAINTS && x < f->w && y < f->h) {
		f->paint[n].x = x;
		f->paint[n].y = y;
		f->paint[n].width = w < f->w - x ? w : f->w - x;
		f->paint[n].height = h < f->h - y ? h : f->h - y;
		f->paint_phase[n] = phase;
		atomic_store(&f->n_paint, n + 1);
	}
	pthread_mutex_unlock(&f->lock);
}

uint32_t ll_fake_platform_pixel(struct ll_platform *p, uint32_t x, uint32_t y)
{
	struct fake *f = to_fake(p);
	uint32_t v = 0;

	pthread_mutex_lock(&f->lock);
	if (f->scr != NULL && x < f->w && y < f->h)
		v = f->scr[(size_t)y * f->w + x];
	pthread_mutex_unlock(&f->lock);
	return v;
}

void ll_fake_platform_poke(struct ll_platform *p)
{
	atomic_store(&to_fake(p)->poke, true);
}

bool ll_fake_platform_poked(struct ll_platform *p)
{
	return atomic_load(&to_fake(p)->poke);
}

unsigned ll_fake_platform_grabs(struct ll_platform *p)
{
	return atomic_load(&to_fake(p)->grabs);
}

static void dirty_add(struct fake *f, uint32_t x1, uint32_t y1, uint32_t x2,
		      uint32_t y2)
{
	if (!f->dirty) {
		f->dx1 = x1;
		f->dy1 = y1;
		f->dx2 = x2;
		f->dy2 = y2;
		f->dirty = true;
		return;
	}
	f->dx1 = x1 < f->dx1 ? x1 : f->dx1;
	f->dy1 = y1 < f->dy1 ? y1 : f->dy1;
	f->dx2 = x2 > f->dx2 ? x2 : f->dx2;
	f->dy2 = y2 > f->dy2 ? y2 : f->dy2;
}

/* RFB thread: the queued paints onto scr (the first covers it all). */
static bool apply_paints(struct fake *f)
{
	const struct ll_capture_rect *rc;
	unsigned n, k;
	uint32_t i, j, x1, y1, x2, y2;

	pthread_mutex_lock(&f->lock);
	n = atomic_exchange(&f->n_paint, 0);
	for (k = 0; k < n; k++) {
		rc = &f->paint[k];
		x1 = rc->x;
		y1 = rc->y;
		x2 = rc->x + rc->width;
		y2 = rc->y + rc->height;
		if (f->scr == NULL &&
		    (f->scr = calloc((size_t)f->w * f->h, 4)) != NULL) {
			x1 = y1 = 0;
			x2 = f->w;
			y2 = f->h;
		}
		if (f->scr == NULL)
			break;
		for (j = y1; j < y2; j++)
			for (i = x1; i < x2; i++)
				f->scr[(size_t)j * f->w + i] =
					ll_fake_photo_pixel(i, j,
							    f->paint_phase[k]);
		dirty_add(f, x1, y1, x2, y2);
	}
	pthread_mutex_unlock(&f->lock);
	return n > 0;
}

static int f_open(const char *display, struct ll_platform **out)
{
	(void)display;
	(void)out;
	return LL_ERR_NOT_FOUND; /* only through ll_fake_platform_new */
}

static void f_free(struct ll_platform *p)
{
	struct fake *f = to_fake(p);

	pthread_mutex_destroy(&f->lock);
	free(f->scr);
	free(p);
}

static unsigned f_features(struct ll_platform *p)
{
	return LL_PLATFORM_FEAT_INPUT | LL_PLATFORM_FEAT_CURSOR |
	       (to_fake(p)->damage ? LL_PLATFORM_FEAT_DAMAGE : 0);
}

static int f_monitors(struct ll_platform *p, struct ll_platform_monitor **out,
		      size_t *n_out)
{
	struct ll_platform_monitor *m = calloc(1, sizeof(*m));

	if (m == NULL)
		return LL_ERR_NOMEM;
	snprintf(m->name, sizeof(m->name), "%s", LL_PLATFORM_ALL);
	m->width = to_fake(p)->w;
	m->height = to_fake(p)->h;
	m->is_all = true;
	*out = m;
	*n_out = 1;
	return 0;
}

static int f_select(struct ll_platform *p, const char *name)
{
	if (strcmp(name, LL_PLATFORM_ALL) != 0)
		return LL_ERR_NOT_FOUND;
	to_fake(p)->first = true;
	return 0;
}

static int f_format(struct ll_platform *p, struct ll_capture_format *f)
{
	struct fake *x = to_fake(p);

	memset(f, 0, sizeof(*f));
	f->width = x->w;
	f->height = x->h;
	f->stride = (size_t)x->w * 4;
	f->size = f->stride * x->h;
	f->bits_per_pixel = 32;
	f->depth = 24;
	f->red_shift = 16;
	f->green_shift = 8;
	f->blue_shift = 0;
	f->red_max = f->green_max = f->blue_max = 255;
	return 0;
}

/* A gradient that moves a little every frame. */
static int f_grab(struct ll_platform *p, const struct ll_capture_rect *rect,
		  void *fb, size_t fb_len)
{
	struct fake *x = to_fake(p);
	uint32_t *px = fb;
	uint32_t x0 = 0, y0 = 0, w = x->w, h = x->h, i, j;

	if (fb_len < (size_t)x->w * x->h * 4)
		return LL_ERR_TOO_LARGE;
	if (rect != NULL) {
		x0 = rect->x;
		y0 = rect->y;
		w = rect->width;
		h = rect->height;
		if (x0 >= x->w || y0 >= x->h)
			return 0;
		if (w > x->w - x0)
			w = x->w - x0;
		if (h > x->h - y0)
			h = x->h - y0;
	}
	x->frame++;
	atomic_fetch_add(&x->grabs, 1);
	if (x->scr != NULL && !x->doc) {
		pthread_mutex_lock(&x->lock);
		for (j = y0; j < y0 + h; j++)
			memcpy(px + (size_t)j * x->w + x0,
			       x->scr + (size_t)j * x->w + x0, (size_t)w * 4);
		pthread_mutex_unlock(&x->lock);
		return 0;
	}
	if (x->doc) {
		for (j = y0; j < y0 + h; j++)
			for (i = x0; i < x0 + w; i++)
				px[(size_t)j * x->w + i] = ll_fake_doc_pixel(
					i, j + x->top);
		return 0;
	}
	for (j = y0; j < y0 + h; j++)
		for (i = x0; i < x0 + w; i++)
			px[(size_t)j * x->w + i] = ((i + x->frame) & 0xff)
							   << 16 |
						   (j & 0xff) << 8 | 0x40;
	return 0;
}

static int f_damage(struct ll_platform *p, struct ll_capture_rect *rects,
		    size_t max, size_t *n_out)
{
	struct fake *x = to_fake(p);

	if (x->first || !x->damage || x->scrolled) {
		x->first = false;
		x->scrolled = false;
		rects[0].x = rects[0].y = 0;
		rects[0].width = x->w;
		rects[0].height = x->h;
		*n_out = 1;
		return 0;
	}
	if (x->dirty) {
		x->dirty = false;
		rects[0].x = x->dx1;
		rects[0].y = x->dy1;
		rects[0].width = x->dx2 - x->dx1;
		rects[0].height = x->dy2 - x->dy1;
		*n_out = 1;
		return 0;
	}
	(void)max;
	*n_out = 0;
	return 0;
}

static int f_cursor(struct ll_platform *p, struct ll_capture_cursor **out)
{
	struct ll_capture_cursor *c = calloc(1, sizeof(*c));
	uint32_t i;

	if (c == NULL || (c->pixels = calloc(8 * 8, 4)) == NULL) {
		free(c);
		return LL_ERR_NOMEM;
	}
	c->width = c->height = 8;
	c->xhot = c->yhot = 1;
	c->serial = 1;
	for (i = 0; i < 64; i++)
		c->pixels[i] = (i % 9 == 0) ? 0xff000000u : 0x80808080u;
	*out = c;
	return 0;
}

static int f_pointer_position(struct ll_platform *p, int32_t *x, int32_t *y)
{
	*x = 3;
	*y = 4;
	return 0;
}

static int f_fd(struct ll_platform *p)
{
	return -1;
}

static bool f_pending(struct ll_platform *p)
{
	struct fake *x = to_fake(p);

	return atomic_load(&x->scroll_pending) != 0 ||
	       atomic_load(&x->n_paint) != 0 || atomic_load(&x->poke);
}

static int f_dispatch(struct ll_platform *p, unsigned *events)
{
	struct fake *x = to_fake(p);
	int rows;

	/* The poke first: what was asked before it is taken below. */
	atomic_store(&x->poke, false);
	rows = atomic_exchange(&x->scroll_pending, 0);
	*events = 0;
	if (apply_paints(x))
		*events |= LL_PLATFORM_EV_DAMAGE;
	if (rows > 0) {
		x->doc = true;
		x->top += (uint32_t)rows;
		x->scrolled = true;
		*events |= LL_PLATFORM_EV_DAMAGE;
	}
	return 0;
}

static int f_move(struct ll_platform *p, int32_t x, int32_t y)
{
	struct ll_fake_input *in = to_fake(p)->in;

	if (in != NULL) {
		atomic_fetch_add(&in->moves, 1);
		atomic_store(&in->last_x, x);
		atomic_store(&in->last_y, y);
	}
	return 0;
}

static int f_button(struct ll_platform *p, unsigned button, bool down)
{
	struct ll_fake_input *in = to_fake(p)->in;

	if (in != NULL)
		atomic_fetch_add(down ? &in->buttons_down : &in->buttons_up,
				 1);
	return 0;
}

static int f_key(struct ll_platform *p, uint32_t keysym, bool down)
{
	struct ll_fake_input *in = to_fake(p)->in;

	if (in != NULL)
		atomic_fetch_add(&in->keys, 1);
	return 0;
}

static int f_reset(struct ll_platform *p)
{
	struct ll_fake_input *in = to_fake(p)->in;

	if (in != NULL)
		atomic_fetch_add(&in->resets, 1);
	return 0;
}

static const struct ll_platform_ops fake_ops = {
	.name = "fake",
	.open = f_open,
	.open_input = f_open,
	.free = f_free,
	.features = f_features,
	.monitors = f_monitors,
	.select_monitor = f_select,
	.get_format = f_format,
	.grab = f_grab,
	.damage = f_damage,
	.cursor = f_cursor,
	.pointer_position = f_pointer_position,
	.fd = f_fd,
	.pending = f_pending,
	.dispatch = f_dispatch,
	.pointer_move = f_move,
	.pointer_button = f_button,
	.key = f_key,
	.input_reset = f_reset,
};

int ll_fake_platform_new(uint32_t width, uint32_t height, bool damage,
			 struct ll_fake_input *counters,
			 struct ll_platform **out)
{
	struct fake *x;

	if (width == 0 || height == 0 || out == NULL)
		return LL_ERR_INVALID_ARG;
	if ((x = calloc(1, sizeof(*x))) == NULL)
		return LL_ERR_NOMEM;
	x->base.ops = &fake_ops;
	x->w = width;
	x->h = height;
	x->damage = damage;
	x->first = true;
	x->in = counters;
	pthread_mutex_init(&x->lock, NULL);
	*out = &x->base;
	return 0;
}
