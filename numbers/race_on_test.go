//go:build race

package numbers

// raceEnabled makes the differential tests smaller under the race
// detector, which slows libphonenumber's regular expressions tenfold.
const raceEnabled = true
