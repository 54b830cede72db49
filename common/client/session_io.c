/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "ll_session_io.h"
