/*-------------------------------------------------------------------------
 *
 * init.h
 *	  Module initialization and medallion's configuration parameters.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MEDALLION_INIT_H
#define MEDALLION_INIT_H

extern void _PG_init(void);

#endif							/* MEDALLION_INIT_H */
