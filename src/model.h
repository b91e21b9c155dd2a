/*-------------------------------------------------------------------------
 *
 * model.h
 *	  Defining, dropping and re-analyzing models.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MEDALLION_MODEL_H
#define MEDALLION_MODEL_H

#include "catalog.h"
#include "scope.h"

extern int	ModelAnalyzeStale(List *models);
extern List *ModelListFresh(void);
extern void ModelRebindReaders(List *names, const char *self);
extern char *ModelSearchPath(List *layers);

#endif							/* MEDALLION_MODEL_H */
