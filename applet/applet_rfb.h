/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The part of the applet below the UI that the RFB thread uses: the input
 * gate and the RFB server.  No GTK here, so that the fuzz target and tests
 * build these two files alone.
 */
#ifndef LL_APPLET_RFB_H
#define LL_APPLET_RFB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- input gate (input_gate.c): thread-safe ---- */

struct ll_platform;
struct ll_input_gate;

struct ll_input_gate *ll_input_gate_new(void);
/* Releases what the technician holds, frees the injector.  NULL ok. */
void ll_input_gate_free(struct ll_input_gate *g);
/*
 * Takes over `input` (from ll_platform_open_input(); NULL: none) as the
 * one instance that injects the technician's input, after releasing and
 * freeing the previous one.  Any thread.
 */
void ll_input_gate_set_injector(struct ll_input_gate *g,
				struct ll_platform *input);
/*
 * Called by the session on the GTK thread.  Each call that closes the
 * gate (control off, a consent dialog about to show, the applet's focus)
 * releases every key and button the technician holds before it returns,
 * on the calling thread: a window mapped afterwards never sees them.
 */
void ll_input_gate_set_control(struct ll_input_gate *g, bool granted);
void ll_input_gate_set_consent_open(struct ll_input_gate *g, bool open);
/* True while one of the applet's windows has the keyboard focus: keys go
 * nowhere then (they would land in our own windows). */
void ll_input_gate_set_applet_focus(struct ll_input_gate *g, bool focused);
/* Rectangle of one of the applet's windows in root coordinates (key:
 * any stable pointer); visible false or remove_window forgets it. */
void ll_input_gate_set_window(struct ll_input_gate *g, const void *key,
			      int32_t x, int32_t y, int32_t w, int32_t h,
			      bool visible);
void ll_input_gate_remove_window(struct ll_input_gate *g, const void *key);
/*
 * The technician's input, from the RFB thread: injected only while the
 * gate is open.  A key event returns whether it was injected.  pointer:
 * RFB's button mask at root coordinates; never a press on one of the
 * applet's windows, never a release of a press that was not injected.
 */
bool ll_input_gate_key(struct ll_input_gate *g, uint32_t keysym, bool down);
void ll_input_gate_pointer(struct ll_input_gate *g, uint8_t mask,
			   int32_t root_x, int32_t root_y);
/* How often held input was released (for tests). */
uint32_t ll_input_gate_releases(struct ll_input_gate *g);

/* ---- RFB server (rfb_server.c) ---- */

struct ll_platform_monitor;
struct ll_rfb_server;

struct ll_rfb_server_cbs {
	/*
	 * Both are called on the RFB thread: marshal to the main loop.
	 * client_ready: the client was created (the RFB version string is
	 * already written to the socket), so the other end may now be
	 * bridged to the peer.  ended: the RFB thread stopped on its own
	 * (client gone, capture failed); reason is a sentence.
	 */
	void (*client_ready)(void *user);
	void (*ended)(void *user, const char *reason);
	/*
	 * Also on the RFB thread: the monitor list (entry 0 "all", as
	 * ll_platform_monitors() gives it; valid during the call only, n 0
	 * when it could not be read) and the name shown now ("all" for the
	 * whole desktop).  Called once the client exists, after every
	 * geometry change, and once for each ll_rfb_server_select_monitor()
	 * with `requested` set to the name asked for and err 0 or what
	 * refused it (LL_ERR_NOT_FOUND: no such monitor; LL_ERR_DISABLED:
	 * the viewer cannot follow a size change).  NULL: not wanted.
	 */
	void (*monitors)(void *user, const struct ll_platform_monitor *mons,
			 size_t n, const char *current, int err,
			 const char *requested);
	void *user;
};

/*
 * A server on platform p (taken over on success) showing `monitor` (a
 * name from ll_platform_monitors(), NULL = the whole desktop), input
 * through gate (borrowed, must outlive the server).  Nothing runs until
 * ll_rfb_server_start().  desktop_name: ServerInit's name.
 * LL_ERR_NOT_FOUND: no such monitor.
 */
int ll_rfb_server_new(struct ll_platform *p, struct ll_input_gate *gate,
		      const char *monitor, const char *desktop_name,
		      const struct ll_rfb_server_cbs *cbs,
		      struct ll_rfb_server **out);
/*
 * Starts the RFB thread with fd (one end of a connected socketpair, taken
 * over in every case) as libvncserver's only, already connected client.
 */
int ll_rfb_server_start(struct ll_rfb_server *s, int fd);
/*
 * The same in two steps, for a server made while the consent dialog is
 * open.  open: starts the RFB thread on a socketpair of its own; it makes
 * libvncserver's client (which writes the RFB version string into the
 * socketpair and nothing else) and waits: no capture, no read, no
 * callback.  go, on the grant only: hands the other end of the
 * socketpair to the caller (to be bridged to the viewer) and lets the
 * thread grab the first frame and serve.  ll_rfb_server_free() before
 * go drops all of it unread.
 */
int ll_rfb_server_open(struct ll_rfb_server *s);
int ll_rfb_server_go(struct ll_rfb_server *s, int *peer_fd);
/*
 * Asks the RFB thread to show monitor `name` (NULL or "all": the whole
 * desktop) from now on: the framebuffer takes the monitor's size (the
 * viewer gets a DesktopSize / ExtendedDesktopSize update) and the answer
 * comes through cbs.monitors.  Any thread.  LL_ERR_INVALID_ARG without a
 * server, LL_ERR_CLOSED once its thread ended.
 */
int ll_rfb_server_select_monitor(struct ll_rfb_server *s, const char *name);
/* Wakes the RFB thread (e.g. a monitor selection is queued). */
void ll_rfb_server_wake(struct ll_rfb_server *s);
/* How many lossless refreshes (rfb_server.c, alr_*) the RFB thread
 * started so far.  Any thread; for tests. */
unsigned ll_rfb_server_refreshes(struct ll_rfb_server *s);
/* Stops and joins the thread, frees everything.  NULL ok. */
void ll_rfb_server_free(struct ll_rfb_server *s);

#endif
