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
 * or when the display goes away.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <X11/Xlib.h>
#include <X11/Xutil.h>

#include "e2e_picture.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
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

static int print_clipboard(void)
{
	Display *dpy = XOpenDisplay(NULL);
	Atom clip, utf8, prop, type;
	Window w;
	XEvent ev;
	unsigned char *data = NULL;
	unsigned long n, left;
	int fmt, i;

	if (dpy == NULL)
		return 1;
	clip = XInternAtom(dpy, "CLIPBOARD", False);
	utf8 = XInternAtom(dpy, "UTF8_STRING", False);
	prop = XInternAtom(dpy, "E2E_CLIP", False);
	w = XCreateSimpleWindow(dpy, DefaultRootWindow(dpy), 0, 0, 1, 1, 0, 0,
				0);
	XConvertSelection(dpy, clip, utf8, prop, w, CurrentTime);
	XFlush(dpy);
	/* bounded: 50 x 100 ms */
	for (i = 0; i < 50; i++) {
		if (XCheckTypedWindowEvent(dpy, w, SelectionNotify, &ev))
			break;
		usleep(100 * 1000);
	}
	if (i == 50 || ev.xselection.property == None ||
	    XGetWindowProperty(dpy, w, prop, 0, 4096, True, AnyPropertyType,
			       &type, &fmt, &n, &left, &data) != Success ||
	    data == NULL) {
		XCloseDisplay(dpy);
		return 1;
	}
	fwrite(data, 1, n, stdout);
	putchar('\n');
	XFree(data);
	XCloseDisplay(dpy);
	return 0;
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

	if (argc == 2 && strcmp(argv[1], "--clipboard") == 0)
		return print_clipboard();
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
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
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
	XSelectInput(dpy, win, ExposureMask | ButtonPressMask | KeyPressMask |
				       KeyReleaseMask | StructureNotifyMask);
	gc = XCreateGC(dpy, win, 0, NULL);
	if ((img = make_picture(dpy)) == NULL)
		return 1;
	XMapRaised(dpy, win);
	XFlush(dpy);

	p.fd = ConnectionNumber(dpy);
	p.events = POLLIN;
	while (!stop) {
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
					dpy, (KeyCode)ev.xkey.keycode, 1, &per);

				if (m != NULL && per > 0)
					ks = m[(ev.xkey.state & ShiftMask) &&
						       per > 1 ? 1 : 0];
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
