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

extern int	ModelAnalyzeStale(List *models);
extern int	ModelCompareNames(const ListCell *a, const ListCell *b);
extern Oid	ModelOwnerId(ModelDef *model);
extern void ModelBecomeOwner(ModelDef *model, Oid *save_userid, int *save_sec);

#endif							/* MEDALLION_MODEL_H */
