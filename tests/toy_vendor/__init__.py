"""Parrot, a toy fifth vendor that lives only in the tests: it proves a vendor is one
package and one spec (docs/adding-a-vendor.md walks through the same steps)."""
