package store_test

import (
	"earlyhelp/features"
	"earlyhelp/pipeline/store"
)

// The store is what a weekly run's attendance index resumes from.
var _ features.DeliveryCache = (*store.Store)(nil)

// The roster sizes its maps from the store's largest delivery.
var _ features.SizeHinter = (*store.Store)(nil)
