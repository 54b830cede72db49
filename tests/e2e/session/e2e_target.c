/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The session e2e test's window on the end user's screen (Xlib only):
 *
 *   e2e-target --x X --y Y --log FILE
 *
 * shows the known picture (e2e_picture.h) at X,Y and appends one line per
 * input event it receives to FILE (flushed at once):
 *   button N X Y      a button press, window coordinates
 *   key NAME CODE STATE  a key press: the keysym after modifiers
 *                     (XLookupString, or the server's current map when
 *                     Xlib's copy has no symbol for the key) by
 *                     XKeysymToString name ("?" for none), the keycode
 *                     and the modifier state
 *   release NAME CODE STATE  a key release, the same way
 * A press of button 1 takes the keyboard focus (click to focus, as a
 * window manager would do; the test's display has none).  Prints
 * "ready 0xWINDOW" on stdout once the picture is drawn.  Ends on SIGTERM
 * or when the display goes away.  SIGUSR1: motion, MOTION_FRAMES
 * full-colour frames (the picture with noise over it, new each frame)
 * about 30 a second, then the picture again and "motion done" in the
 * log: what a lossy encoding sends as JPEG while it moves.
 *
 * The GUI tests' waits for the X server's events (HACKING.md, "Tests wait
 * for events"), each ending with status 0, or 1 when --timeout MS
 * (default 10000) passed first:
 *
 *   e2e-target --window REGEX [--gone]
 *                     a mapped top-level window whose title matches the
 *                     extended REGEX (as `xdotool search --onlyvisible
 *                     --name`): prints its id, in decimal; with --gone,
 *                     until none matches.  --timeout 0 looks once.
 *   e2e-target --drawn WINDOW
 *                     until WINDOW has stopped drawing (X Damage): for
 *                     screenshots.
 *   e2e-target --clipboard
 *                     until the CLIPBOARD has an owner (XFixes), then
 *                     prints its text.
 *   e2e-target --set-clipboard TEXT
 *                     copies TEXT: owns the CLIPBOARD and serves it (as
 *                     UTF8_STRING or STRING) until another owner takes
 *                     it (status 0) or the timeout passed (1).
 */
#include <errno.h>
#include <poll.h>
#include <regex.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <X11/Xatom.h>
#include <X11/Xlib.h>
#include <X11/Xutil.h>
#include <X11/extensions/Xdamage.h>
#include <X11/extensions/Xfixes.h>

#include "e2e_picture.h"

#define MOTION_FRAMES 15
#define MOTION_FRAME_MS 33

static volatile sig_atomic_t stop, motion;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void on_motion(int sig)
{
	(void)sig;
	motion = 1;
}

static XImage *make_picture(Display *dpy)
{
	uint32_t *px = calloc((size_t)E2E_PIC_W * E2E_PIC_H, 4);
	int x, y;

	if (px == NULL)
		return NULL;
	for (y = 0; y < E2E_PIC_H; y++)
		for (x = 0; x < E2E_PIC_W; x++)
			px[(size_t)y * E2E_PIC_W + x] = e2e_picture_rgb(x, y);
	return XCreateImage(dpy, DefaultVisual(dpy, DefaultScreen(dpy)), 24,
			    ZPixmap, 0, (char *)px, E2E_PIC_W, E2E_PIC_H, 32,
			    E2E_PIC_W * 4);
}

static void install_signals(void)
{
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGUSR1, on_motion);
}

/* Frame f of the motion into img: every pixel changes, many colours. */
static void motion_frame(XImage *img, unsigned f)
{
	uint32_t *px = (uint32_t *)img->data, h;
	int x, y;

	for (y = 0; y < E2E_PIC_H; y++) {
		for (x = 0; x < E2E_PIC_W; x++) {
			h = ((uint32_t)x * 2654435761u) ^
			    ((uint32_t)y * 40503u) ^ (f * 2246822519u);
			h ^= h >> 13;
			px[(size_t)y * E2E_PIC_W + x] = e2e_picture_rgb(x, y) ^
							(h & 0x3f3f3f);
		}
	}
}

/* SIGUSR1's motion, then the picture as it was. */
static void run_motion(Display *dpy, Window win, GC gc, XImage *img, FILE *log)
{
	XImage *frame = make_picture(dpy);
	struct timespec ts = { 0, MOTION_FRAME_MS * 1000000L };
	unsigned f;

	motion = 0;
	if (frame == NULL)
		return;
	for (f = 0; f < MOTION_FRAMES && !stop; f++) {
		motion_frame(frame, f);
		XPutImage(dpy, win, gc, frame, 0, 0, 0, 0, E2E_PIC_W,
			  E2E_PIC_H);
		XSync(dpy, False);
		/* the pace of a video is what is under test here */
		nanosleep(&ts, NULL);
	}
	XDestroyImage(frame);
	XPutImage(dpy, win, gc, img, 0, 0, 0, 0, E2E_PIC_W, E2E_PIC_H);
	XSync(dpy, False);
	fprintf(log, "motion done\n");
	fflush(log);
}

/* ---- waits for the X server's events ---- */

/* A window may go away between two requests about it. */
static int ignore_x_error(Display *dpy, XErrorEvent *e)
{
	(void)dpy;
	(void)e;
	return 0;
}

static int64_t now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* The next event, waiting until deadline (ms, monotonic); false then. */
static bool next_event(Display *dpy, int64_t deadline, XEvent *ev)
{
	struct pollfd p = { .fd = ConnectionNumber(dpy), .events = POLLIN };
	int64_t left;

	while (XPending(dpy) == 0) {
		left = deadline - now_ms();
		if (left <= 0)
			return false;
		if (poll(&p, 1, (int)left) < 0 && errno != EINTR)
			return false;
	}
	XNextEvent(dpy, ev);
	return true;
}

/* _NET_WM_NAME (UTF-8), else WM_NAME; NULL when there is none. */
static char *window_title(Display *dpy, Window w)
{
	Atom net = XInternAtom(dpy, "_NET_WM_NAME", False);
	Atom utf8 = XInternAtom(dpy, "UTF8_STRING", False), type;
	unsigned char *data = NULL;
	unsigned long n, left;
	char *name = NULL, *t;
	int fmt;

	if (XGetWindowProperty(dpy, w, net, 0, 1024, False, utf8, &type, &fmt,
			       &n, &left, &data) == Success &&
	    data != NULL && type == utf8) {
		t = strndup((char *)data, n);
		XFree(data);
		return t;
	}
	if (data != NULL)
		XFree(data);
	if (XFetchName(dpy, w, &name) && name != NULL) {
		t = strdup(name);
		XFree(name);
		return t;
	}
	return NULL;
}

/*
 * The first mapped window whose title matches re under w, looking depth
 * levels down, or None.  Every window looked at reports its property
 * changes and its children's mapping from now on: a title set or a
 * window mapped after this look wakes the wait.
 */
static Window find_under(Display *dpy, Window w, int depth, const regex_t *re)
{
	Window root, parent, *kids = NULL, found = 0;
	XWindowAttributes wa;
	unsigned int n, i;
	char *title;

	if (!XQueryTree(dpy, w, &root, &parent, &kids, &n))
		return 0;
	for (i = 0; i < n && found == 0; i++) {
		XSelectInput(dpy, kids[i],
			     PropertyChangeMask | SubstructureNotifyMask);
		if (!XGetWindowAttributes(dpy, kids[i], &wa) ||
		    wa.map_state != IsViewable)
			continue;
		title = window_title(dpy, kids[i]);
		if (title != NULL && regexec(re, title, 0, NULL, 0) == 0)
			found = kids[i];
		else if (title == NULL && depth > 1)
			found = find_under(dpy, kids[i], depth - 1, re);
		free(title);
	}
	if (kids != NULL)
		XFree(kids);
	return found;
}

/*
 * The first mapped top-level window whose title matches re, or None: a
 * child of the root, or, under a window manager that reparents (the
 * applet_bar test runs openbox), a client inside its frame.
 */
static Window find_window(Display *dpy, const regex_t *re)
{
	return find_under(dpy, DefaultRootWindow(dpy), 3, re);
}

static int wait_window(Display *dpy, const char *pattern, bool gone,
		       int timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms;
	regex_t re;
	Window w;
	XEvent ev;

	if (regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB) != 0) {
		fprintf(stderr, "e2e-target: bad regular expression\n");
		return 2;
	}
	/* Windows made, mapped, unmapped, gone: then look again. */
	XSelectInput(dpy, DefaultRootWindow(dpy), SubstructureNotifyMask);
	for (;;) {
		w = find_window(dpy, &re);
		if (gone ? w == 0 : w != 0)
			break;
		if (!next_event(dpy, deadline, &ev)) {
			regfree(&re);
			return 1;
		}
	}
	regfree(&re);
	if (!gone)
		printf("%lu\n", (unsigned long)w);
	return 0;
}

/*
 * Until the window stops drawing: no Damage for QUIET_MS after an XSync.
 * Nothing in X says that a toolkit has finished a frame, so a short quiet
 * time is the sign; it only decides when a screenshot is taken.
 */
#define QUIET_MS 100

static int wait_drawn(Display *dpy, Window w, int timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms, quiet_since;
	int ev_base, err_base;
	Damage d;
	XEvent ev;

	if (!XDamageQueryExtension(dpy, &ev_base, &err_base)) {
		fprintf(stderr, "e2e-target: no DAMAGE extension\n");
		return 2;
	}
	d = XDamageCreate(dpy, w, XDamageReportNonEmpty);
	quiet_since = now_ms();
	for (;;) {
		XDamageSubtract(dpy, d, None, None);
		XSync(dpy, False);
		while (XPending(dpy) > 0) {
			XNextEvent(dpy, &ev);
			if (ev.type == ev_base + XDamageNotify)
				quiet_since = now_ms();
		}
		if (now_ms() - quiet_since >= QUIET_MS)
			break;
		if (now_ms() >= deadline)
			return 1;
		/* Until the quiet time is over, or a drawing ends it. */
		if (!next_event(dpy, quiet_since + QUIET_MS, &ev))
			continue;
		if (ev.type == ev_base + XDamageNotify)
			quiet_since = now_ms();
	}
	XDamageDestroy(dpy, d);
	return 0;
}

static int print_clipboard(Display *dpy, int timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms;
	Atom clip, utf8, prop, type;
	Window w;
	XEvent ev;
	unsigned char *data = NULL;
	unsigned long n, left;
	int fmt, ev_base, err_base;
	bool got = false;

	if (!XFixesQueryExtension(dpy, &ev_base, &err_base)) {
		fprintf(stderr, "e2e-target: no XFIXES extension\n");
		return 2;
	}
	clip = XInternAtom(dpy, "CLIPBOARD", False);
	utf8 = XInternAtom(dpy, "UTF8_STRING", False);
	prop = XInternAtom(dpy, "E2E_CLIP", False);
	w = XCreateSimpleWindow(dpy, DefaultRootWindow(dpy), 0, 0, 1, 1, 0, 0,
				0);
	/* An owner now, or the event that one took it. */
	XFixesSelectSelectionInput(dpy, w, clip,
				   XFixesSetSelectionOwnerNotifyMask);
	while (XGetSelectionOwner(dpy, clip) == None)
		if (!next_event(dpy, deadline, &ev))
			return 1;
	XConvertSelection(dpy, clip, utf8, prop, w, CurrentTime);
	while (!got) {
		if (!next_event(dpy, deadline, &ev))
			return 1;
		got = ev.type == SelectionNotify &&
		      ev.xselection.requestor == w;
	}
	if (ev.xselection.property == None ||
	    XGetWindowProperty(dpy, w, prop, 0, 4096, True, AnyPropertyType,
			       &type, &fmt, &n, &left, &data) != Success ||
	    data == NULL)
		return 1;
	fwrite(data, 1, n, stdout);
	putchar('\n');
	XFree(data);
	return 0;
}

/* One request for our selection: TARGETS, or the text. */
static void serve_selection(Display *dpy, const XSelectionRequestEvent *rq,
			    const char *text)
{
	Atom targets = XInternAtom(dpy, "TARGETS", False);
	Atom utf8 = XInternAtom(dpy, "UTF8_STRING", False);
	Atom offer[] = { targets, utf8, XA_STRING };
	XSelectionEvent ev = { .type = SelectionNotify,
			       .display = dpy,
			       .requestor = rq->requestor,
			       .selection = rq->selection,
			       .target = rq->target,
			       .property = rq->property,
			       .time = rq->time };

	if (ev.property == None)
		ev.property = rq->target;
	if (rq->target == targets)
		XChangeProperty(dpy, rq->requestor, ev.property, XA_ATOM, 32,
				PropModeReplace, (unsigned char *)offer, 3);
	else if (rq->target == utf8 || rq->target == XA_STRING)
		XChangeProperty(dpy, rq->requestor, ev.property, rq->target, 8,
				PropModeReplace, (const unsigned char *)text,
				(int)strlen(text));
	else
		ev.property = None;
	XSendEvent(dpy, rq->requestor, False, 0, (XEvent *)&ev);
	XFlush(dpy);
}

static int set_clipboard(Display *dpy, const char *text, int timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms;
	Atom clip = XInternAtom(dpy, "CLIPBOARD", False);
	Window w = XCreateSimpleWindow(dpy, DefaultRootWindow(dpy), 0, 0, 1, 1,
				       0, 0, 0);
	XEvent ev;

	XSetSelectionOwner(dpy, clip, w, CurrentTime);
	if (XGetSelectionOwner(dpy, clip) != w)
		return 1;
	printf("owned\n");
	fflush(stdout);
	while (!stop && next_event(dpy, deadline, &ev)) {
		if (ev.type == SelectionClear)
			return 0;
		if (ev.type == SelectionRequest)
			serve_selection(dpy, &ev.xselectionrequest, text);
	}
	return 1;
}

/* e2e-target --window|--drawn|--clipboard ...: see the top of the file. */
static int wait_main(int argc, char **argv)
{
	const char *pattern = NULL, *win = NULL, *set = NULL;
	bool gone = false, clipboard = false;
	int timeout_ms = 10000, i, r;
	Display *dpy;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--gone") == 0)
			gone = true;
		else if (strcmp(argv[i], "--clipboard") == 0)
			clipboard = true;
		else if (i + 1 < argc && strcmp(argv[i], "--window") == 0)
			pattern = argv[++i];
		else if (i + 1 < argc &&
			 strcmp(argv[i], "--set-clipboard") == 0)
			set = argv[++i];
		else if (i + 1 < argc && strcmp(argv[i], "--drawn") == 0)
			win = argv[++i];
		else if (i + 1 < argc && strcmp(argv[i], "--timeout") == 0)
			timeout_ms = atoi(argv[++i]);
		else
			break;
	}
	if (i != argc ||
	    (pattern != NULL) + (win != NULL) + clipboard + (set != NULL) !=
		    1) {
		fprintf(stderr, "usage: e2e-target --window REGEX [--gone] "
				"| --drawn WINDOW | --clipboard "
				"| --set-clipboard TEXT [--timeout MS]\n");
		return 2;
	}
	if ((dpy = XOpenDisplay(NULL)) == NULL) {
		fprintf(stderr, "e2e-target: cannot open display\n");
		return 2;
	}
	XSetErrorHandler(ignore_x_error);
	if (pattern != NULL)
		r = wait_window(dpy, pattern, gone, timeout_ms);
	else if (win != NULL)
		r = wait_drawn(dpy, (Window)strtoul(win, NULL, 0), timeout_ms);
	else if (set != NULL)
		r = set_clipboard(dpy, set, timeout_ms);
	else
		r = print_clipboard(dpy, timeout_ms);
	XCloseDisplay(dpy);
	return r;
}

/* The first option of wait_main's commands. */
static bool is_wait_command(const char *arg)
{
	static const char *const cmds[] = { "--window", "--drawn",
					    "--clipboard", "--set-clipboard" };
	size_t i;

	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (strcmp(arg, cmds[i]) == 0)
			return true;
	}
	return false;
}

int main(int argc, char **argv)
{
	const char *log_path = NULL;
	int x = 0, y = 0, i;
	Display *dpy;
	Window win;
	XImage *img;
	GC gc;
	FILE *log;
	XEvent ev;
	XClassHint hint = { "e2e-target", "e2e-target" };
	struct pollfd p;
	bool ready = false;

	if (argc >= 2 && is_wait_command(argv[1]))
		return wait_main(argc, argv);
	for (i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--x") == 0)
			x = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--y") == 0)
			y = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--log") == 0)
			log_path = argv[i + 1];
	}
	if (log_path == NULL || i != argc) {
		fprintf(stderr, "usage: e2e-target --x X --y Y --log FILE\n");
		return 2;
	}
	install_signals();
	if ((log = fopen(log_path, "a")) == NULL) {
		perror(log_path);
		return 1;
	}
	if ((dpy = XOpenDisplay(NULL)) == NULL) {
		fprintf(stderr, "e2e-target: cannot open display\n");
		return 1;
	}
	if (DefaultDepth(dpy, DefaultScreen(dpy)) != 24) {
		fprintf(stderr, "e2e-target: needs a depth 24 display\n");
		return 1;
	}
	win = XCreateSimpleWindow(dpy, DefaultRootWindow(dpy), x, y, E2E_PIC_W,
				  E2E_PIC_H, 0, 0, 0);
	XStoreName(dpy, win, "e2e-target");
	XSetClassHint(dpy, win, &hint);
	XSelectInput(dpy, win,
		     ExposureMask | ButtonPressMask | KeyPressMask |
			     KeyReleaseMask | StructureNotifyMask);
	gc = XCreateGC(dpy, win, 0, NULL);
	if ((img = make_picture(dpy)) == NULL)
		return 1;
	XMapRaised(dpy, win);
	XFlush(dpy);

	p.fd = ConnectionNumber(dpy);
	p.events = POLLIN;
	while (!stop) {
		if (motion)
			run_motion(dpy, win, gc, img, log);
		if (XPending(dpy) == 0) {
			if (poll(&p, 1, 200) < 0 && errno != EINTR)
				break;
			if (p.revents & (POLLHUP | POLLERR))
				break;
			if (XPending(dpy) == 0)
				continue;
		}
		XNextEvent(dpy, &ev);
		switch (ev.type) {
		case Expose:
			XPutImage(dpy, win, gc, img, 0, 0, 0, 0, E2E_PIC_W,
				  E2E_PIC_H);
			XSync(dpy, False);
			if (!ready) {
				ready = true;
				printf("ready 0x%lx\n", (unsigned long)win);
				fflush(stdout);
			}
			break;
		case ButtonPress:
			fprintf(log, "button %u %d %d\n", ev.xbutton.button,
				ev.xbutton.x, ev.xbutton.y);
			fflush(log);
			if (ev.xbutton.button == 1)
				XSetInputFocus(dpy, win, RevertToParent,
					       ev.xbutton.time);
			break;
		case KeyRelease: {
			KeySym ks = XLookupKeysym(&ev.xkey, 0);
			const char *name = XKeysymToString(ks);

			fprintf(log, "release %s %u 0x%x\n",
				name != NULL ? name : "?", ev.xkey.keycode,
				ev.xkey.state);
			fflush(log);
			break;
		}
		case KeyPress: {
			char buf[32];
			KeySym ks = NoSymbol;
			const char *name;
			bool from_server = false;

			XLookupString(&ev.xkey, buf, sizeof(buf), &ks, NULL);
			if (ks == NoSymbol) {
				/* Xlib's copy of the map can lag behind the
				 * server's when a key was bound just before
				 * it was pressed (the applet binds é to a
				 * spare keycode): ask the server */
				int per = 0;
				KeySym *m = XGetKeyboardMapping(
					dpy, (KeyCode)ev.xkey.keycode, 1,
					&per);

				if (m != NULL && per > 0)
					ks = m[(ev.xkey.state & ShiftMask) &&
							       per > 1
						       ? 1
						       : 0];
				if (m != NULL)
					XFree(m);
				from_server = true;
			}
			name = XKeysymToString(ks);
			/* keycode and state after the name, for a person
			 * reading the log when a key came out wrong */
			fprintf(log, "key %s %u 0x%x%s\n",
				name != NULL ? name : "?", ev.xkey.keycode,
				ev.xkey.state,
				from_server ? " (server map)" : "");
			fflush(log);
			break;
		}
		case MappingNotify:
			/* the applet maps keysyms without a key (é) to a
			 * spare keycode for a moment: look the new map up,
			 * as every toolkit does */
			XRefreshKeyboardMapping(&ev.xmapping);
			fprintf(log, "mapping %d %d %d\n", ev.xmapping.request,
				ev.xmapping.first_keycode, ev.xmapping.count);
			fflush(log);
			break;
		default:
			break;
		}
	}
	XDestroyImage(img);
	XFreeGC(dpy, gc);
	XCloseDisplay(dpy);
	fclose(log);
	return 0;
}
