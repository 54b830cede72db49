/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The backend-independent half of the platform layer: picks a backend and
 * checks arguments once, so that every backend can trust them.
 */
#include <stdlib.h>
#include <string.h>

#include "ll_err.h"
#include "platform.h"

static const struct ll_platform_ops *const backends[] = {
	&ll_platform_x11_ops,
};

void ll_capture_cursor_free(struct ll_capture_cursor *c)
{
	if (c == NULL)
		return;
	free(c->pixels);
	free(c);
}

static int open_with(const char *backend, const char *display, bool input,
		     struct ll_platform **out)
{
	struct ll_platform *p = NULL;
	int r = LL_ERR_NOT_FOUND;
	size_t i;

	if (out == NULL)
		return LL_ERR_INVALID_ARG;
	for (i = 0; i < sizeof(backends) / sizeof(backends[0]); i++) {
		if (backend != NULL && strcmp(backend, backends[i]->name) != 0)
			continue;
		r = input ? backends[i]->open_input(display, &p)
			  : backends[i]->open(display, &p);
		if (r == 0)
			break;
	}
	if (r != 0)
		return r;
	*out = p;
	return 0;
}

int ll_platform_open(const char *backend, const char *display,
		     struct ll_platform **out)
{
	return open_with(backend, display, false, out);
}

int ll_platform_open_input(const char *backend, const char *display,
			   struct ll_platform **out)
{
	return open_with(backend, display, true, out);
}

void ll_platform_free(struct ll_platform *p)
{
	if (p != NULL)
		p->ops->free(p);
}

const char *ll_platform_name(const struct ll_platform *p)
{
	return p != NULL ? p->ops->name : "none";
}

unsigned ll_platform_features(struct ll_platform *p)
{
	return p != NULL ? p->ops->features(p) : 0;
}

int ll_platform_monitors(struct ll_platform *p,
			 struct ll_platform_monitor **out, size_t *n_out)
{
	if (p == NULL || out == NULL || n_out == NULL)
		return LL_ERR_INVALID_ARG;
	return p->ops->monitors(p, out, n_out);
}

int ll_platform_select_monitor(struct ll_platform *p, const char *name)
{
	if (p == NULL)
		return LL_ERR_INVALID_ARG;
	if (name == NULL)
		name = LL_PLATFORM_ALL;
	return p->ops->select_monitor(p, name);
}

int ll_platform_get_format(struct ll_platform *p,
			   struct ll_capture_format *out)
{
	if (p == NULL || out == NULL)
		return LL_ERR_INVALID_ARG;
	return p->ops->get_format(p, out);
}

int ll_platform_grab(struct ll_platform *p, const struct ll_capture_rect *rect,
		     void *fb, size_t fb_len)
{
	if (p == NULL || fb == NULL)
		return LL_ERR_INVALID_ARG;
	return p->ops->grab(p, rect, fb, fb_len);
}

int ll_platform_damage(struct ll_platform *p, struct ll_capture_rect *rects,
		       size_t max, size_t *n_out)
{
	if (p == NULL || rects == NULL || max == 0 || n_out == NULL)
		return LL_ERR_INVALID_ARG;
	return p->ops->damage(p, rects, max, n_out);
}

int ll_platform_cursor(struct ll_platform *p, struct ll_capture_cursor **out)
{
	if (p == NULL || out == NULL)
		return LL_ERR_INVALID_ARG;
	return p->ops->cursor(p, out);
}

int ll_platform_pointer_position(struct ll_platform *p, int32_t *x, int32_t *y)
{
	if (p == NULL || x == NULL || y == NULL)
		return LL_ERR_INVALID_ARG;
	return p->ops->pointer_position(p, x, y);
}

int ll_platform_fd(struct ll_platform *p)
{
	if (p == NULL)
		return LL_ERR_INVALID_ARG;
	return p->ops->fd(p);
}

bool ll_platform_pending(struct ll_platform *p)
{
	return p != NULL && p->ops->pending(p);
}

int ll_platform_dispatch(struct ll_platform *p, unsigned *events)
{
	if (p == NULL || events == NULL)
		return LL_ERR_INVALID_ARG;
	return p->ops->dispatch(p, events);
}

int ll_platform_pointer_move(struct ll_platform *p, int32_t x, int32_t y)
{
	if (p == NULL)
		return LL_ERR_INVALID_ARG;
	return p->ops->pointer_move(p, x, y);
}

int ll_platform_pointer_button(struct ll_platform *p, unsigned button,
			       bool down)
{
	if (p == NULL || button < 1 || button > LL_PLATFORM_BUTTON_MAX)
		return LL_ERR_INVALID_ARG;
	return p->ops->pointer_button(p, button, down);
}

int ll_platform_key(struct ll_platform *p, uint32_t keysym, bool down)
{
	/* 0 is NoSymbol; keysyms are 29-bit values (X11 protocol). */
	if (p == NULL || keysym == 0 || keysym > 0x1fffffff)
		return LL_ERR_INVALID_ARG;
	return p->ops->key(p, keysym, down);
}

int ll_platform_input_reset(struct ll_platform *p)
{
	if (p == NULL)
		return LL_ERR_INVALID_ARG;
	return p->ops->input_reset(p);
}

int ll_platform_warm(struct ll_platform *p, uint32_t fill)
{
	if (p == NULL)
		return LL_ERR_INVALID_ARG;
	return p->ops->warm != NULL ? p->ops->warm(p, fill) : 0;
}
