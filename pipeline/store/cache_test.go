package store_test

import (
	"earlyhelp/features"
	"earlyhelp/pipeline/store"
)

// The store is what a weekly run's attendance index resumes from.
var _ features.DeliveryCache = (*store.Store)(nil)
